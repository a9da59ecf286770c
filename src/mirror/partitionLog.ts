/** Listing a per-partition log table (`sync_runs`, `quarantine`): newest first, of one partition or all. */
import { desc, eq } from 'drizzle-orm';
import type { Mirror } from './openMirror.ts';
import type { quarantine, syncRuns } from './schema.ts';
import type { PartitionLogOptions } from './store.ts';

type PartitionLog = typeof syncRuns | typeof quarantine;

export function newestFirst<T extends PartitionLog>(
  mirror: Mirror,
  table: T,
  opts: PartitionLogOptions,
  defaultLimit: number,
): T['$inferSelect'][] {
  const t: PartitionLog = table;
  const q = mirror.db.select().from(t);
  const filtered = opts.partition !== undefined ? q.where(eq(t.partition, opts.partition)) : q;
  return filtered
    .orderBy(desc(t.id))
    .limit(opts.limit ?? defaultLimit)
    .all() as T['$inferSelect'][];
}
