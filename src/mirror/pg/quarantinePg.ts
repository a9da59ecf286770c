/** Quarantined upstream items on PostgreSQL (the rules of ../quarantine.ts): written in a page's transaction. */
import { desc, eq } from 'drizzle-orm';
import type pg from 'pg';
import type { RejectedItem } from '../../retab/index.ts';
import { QUARANTINE_RAW_MAX_BYTES, truncateUtf8 } from '../quarantine.ts';
import type { PartitionLogOptions } from '../store.ts';
import type { PgMirrorDb } from './openPgMirror.ts';
import { pgText } from './pgText.ts';
import { quarantine } from './schema.ts';

export type PgQuarantineRow = typeof quarantine.$inferSelect;

function stringifySafely(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Insert `items` in one statement; returns how many. */
export async function quarantineItems(
  client: pg.PoolClient,
  items: readonly RejectedItem[],
  partition: string | null,
  observedAt: number,
): Promise<number> {
  if (items.length === 0) return 0;
  await client.query(
    `INSERT INTO quarantine (job_id, partition, reason, issues, raw, observed_at)
      SELECT job_id, $2, reason, issues, raw, $3 FROM unnest($1::text[], $4::text[], $5::text[], $6::text[])
        WITH ORDINALITY AS q(job_id, reason, issues, raw, ord) ORDER BY ord`,
    [
      items.map((i) => pgText(i.id)),
      pgText(partition),
      observedAt,
      items.map((i) => pgText(i.reason)),
      items.map((i) => stringifySafely(i.issues)),
      items.map((i) => truncateUtf8(stringifySafely(i.raw), QUARANTINE_RAW_MAX_BYTES)),
    ],
  );
  return items.length;
}

/** Quarantined items, newest first. */
export async function listQuarantinePg(
  db: PgMirrorDb,
  opts: PartitionLogOptions = {},
): Promise<PgQuarantineRow[]> {
  const q = db.select().from(quarantine);
  const filtered = opts.partition !== undefined ? q.where(eq(quarantine.partition, opts.partition)) : q;
  return filtered.orderBy(desc(quarantine.id)).limit(opts.limit ?? 100);
}
