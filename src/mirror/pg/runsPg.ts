/** The run log (`sync_runs`) on PostgreSQL: the same rules as ../runs.ts (see there for the why). */
import { desc, eq, sql } from 'drizzle-orm';
import { finishedRunColumns, ORPHANED_RUN_ERROR, orphanedRunOf, successfulRunOf } from '../runs.ts';
import type { ListRunsOptions } from '../store.ts';
import type { RunRecord, RunTotals } from '../types.ts';
import type { PgMirror } from './openPgMirror.ts';
import { syncRuns } from './schema.ts';

export type PgSyncRunRow = typeof syncRuns.$inferSelect;

/** Record a run as `running` (the partition's previous run, if still `running`, becomes `aborted`); its id. */
export async function startRunPg(m: PgMirror, run: RunRecord): Promise<number> {
  return m.db.transaction(async (tx) => {
    await tx
      .update(syncRuns)
      .set({ outcome: 'aborted', error: ORPHANED_RUN_ERROR })
      .where(orphanedRunOf(syncRuns, run.partition));
    const [row] = await tx
      .insert(syncRuns)
      .values({ task: run.task, partition: run.partition, startedAt: run.startedAt, outcome: 'running' })
      .returning({ id: syncRuns.id });
    if (!row) throw new Error('startRun: the insert returned no id');
    return row.id;
  });
}

export async function finishRunPg(m: PgMirror, id: number, totals: RunTotals): Promise<void> {
  const result = await m.db.update(syncRuns).set(finishedRunColumns(totals)).where(eq(syncRuns.id, id));
  if (result.rowCount === 0)
    throw new Error(`finishRun: no run with id ${id} (use the id startRun returned)`);
}

/** Runs, newest first. */
export async function listRunsPg(m: PgMirror, opts: ListRunsOptions = {}): Promise<PgSyncRunRow[]> {
  const q = m.db.select().from(syncRuns);
  const filtered = opts.partition !== undefined ? q.where(eq(syncRuns.partition, opts.partition)) : q;
  return filtered.orderBy(desc(syncRuns.id)).limit(opts.limit ?? 20);
}

/** The newest successful run whose task equals the key or whose partition starts with it. */
export async function lastSuccessfulRunPg(
  m: PgMirror,
  taskOrPartitionPrefix: string,
): Promise<PgSyncRunRow | undefined> {
  const key = taskOrPartitionPrefix;
  const rows = await m.db
    .select()
    .from(syncRuns)
    .where(successfulRunOf(syncRuns, key))
    // SQLite sorts NULLs lowest (last in DESC order); PostgreSQL's DESC puts them first unless told.
    .orderBy(sql`${syncRuns.finishedAt} DESC NULLS LAST`, desc(syncRuns.id))
    .limit(1);
  return rows[0];
}
