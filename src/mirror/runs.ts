/** The run log (`sync_runs`): one row per task run, success or not, for `status` output and scheduling. */
import { type AnyColumn, and, desc, eq, or, type SQL, sql, type Table } from 'drizzle-orm';
import type { Mirror } from './openMirror.ts';
import { newestFirst } from './partitionLog.ts';
import { syncRuns } from './schema.ts';
import type { PartitionLogOptions, SyncRunRow } from './store.ts';
import type { RunRecord, RunTotals } from './types.ts';

/** What an earlier run still marked `running` gets when the next run of its partition starts. */
export const ORPHANED_RUN_ERROR =
  'the process stopped before this run finished (killed?); the next run took over';

/** The columns of a `sync_runs` table the shared conditions below read, on either dialect's schema. */
interface RunTable extends Table {
  id: AnyColumn;
  partition: AnyColumn;
  outcome: AnyColumn;
  task: AnyColumn;
}

/** The condition "a successful run whose task is `key` or whose partition starts with it". */
export const successfulRunOf = (t: RunTable, key: string): SQL | undefined =>
  and(eq(t.outcome, 'success'), or(eq(t.task, key), sql`substr(${t.partition}, 1, ${key.length}) = ${key}`));

/**
 * The condition "the partition's latest run, if still `running`" (see `startRun`), over either store's
 * `sync_runs` table (drizzle renders it per dialect).
 */
export const orphanedRunOf = (t: RunTable, partition: string): SQL | undefined =>
  and(
    eq(t.id, sql`(SELECT max(${t.id}) FROM ${t} WHERE ${t.partition} = ${partition})`),
    eq(t.outcome, 'running'),
  );

/**
 * Record a run as `running`; returns its id for finishRun. If the partition's previous run is still marked
 * `running`, the process that ran it died without recording its end (SIGKILL, power loss): a partition runs
 * once at a time, so it becomes `aborted`. Should it still be alive after all (a second writer on the file,
 * which is unsupported), its own finishRun records its real outcome. Only the previous run is checked (one
 * index lookup), since a partition's runs follow each other.
 */
export function startRun(mirror: Mirror, run: RunRecord): number {
  return mirror.sqlite.transaction(() => {
    mirror.db
      .update(syncRuns)
      .set({ outcome: 'aborted', error: ORPHANED_RUN_ERROR })
      .where(orphanedRunOf(syncRuns, run.partition))
      .run();
    const row = mirror.db
      .insert(syncRuns)
      .values({ task: run.task, partition: run.partition, startedAt: run.startedAt, outcome: 'running' })
      .returning({ id: syncRuns.id })
      .get();
    return row.id;
  })();
}

/**
 * The `sync_runs` columns a finished run sets, the same on both stores (SQLite and PostgreSQL): totals as
 * given, `error` null when absent, `upstreamStatuses` as JSON text.
 */
export function finishedRunColumns(totals: RunTotals) {
  return {
    finishedAt: totals.finishedAt,
    requests: totals.requests,
    pages: totals.pages,
    jobs: totals.jobs,
    inserted: totals.inserted,
    updated: totals.updated,
    events: totals.events,
    missing: totals.missing,
    quarantined: totals.quarantined,
    outcome: totals.outcome,
    error: totals.error ?? null,
    upstreamStatuses: totals.upstreamStatuses ? JSON.stringify(totals.upstreamStatuses) : null,
  };
}

export function finishRun(mirror: Mirror, id: number, totals: RunTotals): void {
  const result = mirror.db.update(syncRuns).set(finishedRunColumns(totals)).where(eq(syncRuns.id, id)).run();
  if (result.changes === 0) throw new Error(`finishRun: no run with id ${id} (use the id startRun returned)`);
}

/** Runs, newest first. */
export function listRuns(mirror: Mirror, opts: PartitionLogOptions = {}): SyncRunRow[] {
  return newestFirst(mirror, syncRuns, opts, 20);
}

/**
 * The newest successful run whose task equals `taskOrPartitionPrefix` or whose partition starts with it
 * (`'head'`, `'window:'`, `'window:2026-11-01'`).
 */
export function lastSuccessfulRun(mirror: Mirror, taskOrPartitionPrefix: string): SyncRunRow | undefined {
  const key = taskOrPartitionPrefix;
  return mirror.db
    .select()
    .from(syncRuns)
    .where(successfulRunOf(syncRuns, key))
    .orderBy(desc(syncRuns.finishedAt), desc(syncRuns.id))
    .limit(1)
    .get();
}
