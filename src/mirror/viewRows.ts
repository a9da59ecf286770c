/**
 * The dialect-neutral pieces of the views (sqlite/views.ts and pg/viewsPg.ts): the column lists both
 * stores select and the shaping of their rows into what `MirrorStore.views` answers. Only the SQL text
 * around them differs per dialect (placeholders `?` vs `$n`, alias quoting, casts).
 */
import type { RunBrief } from './store.ts';

/** A `sync_runs` row as `runsOf` selects it (snake_case, unix ms). */
export interface RunBriefRow {
  id: number;
  task: string;
  outcome: string;
  started_at: number;
  finished_at: number | null;
  requests: number;
  jobs: number;
  events: number;
  quarantined: number;
  error: string | null;
}

/** The columns of a `RunBriefRow`, in order. */
export const RUN_BRIEF_COLUMNS =
  'id, task, outcome, started_at, finished_at, requests, jobs, events, quarantined, error';

/** A run's brief: `durationMs` is null while the run is open. */
export const toRunBrief = (r: RunBriefRow): RunBrief => ({
  id: r.id,
  task: r.task,
  outcome: r.outcome,
  startedAt: r.started_at,
  durationMs: r.finished_at === null ? null : r.finished_at - r.started_at,
  requests: r.requests,
  jobs: r.jobs,
  events: r.events,
  quarantined: r.quarantined,
  error: r.error,
});

/** One quarantined item as the console lists it (unix ms). */
export interface QuarantineBrief {
  id: number;
  jobId: string | null;
  partition: string | null;
  reason: string;
  observedAt: number;
}

/** The `jobs` columns of a `JobColumnsRow`, in its tuple order. */
export const JOB_BRIEF_COLUMNS =
  'seq, status, endpoint, source, model, error_code, created_at, started_at, completed_at';

/**
 * `sync_runs` columns as a `SyncRunRow` (table alias `r`), with camelCase aliases quoted by `quote`
 * (SQLite keeps the case of a bare alias; PostgreSQL folds it, so it needs `"startedAt"`).
 */
export const runColumns = (quote: (alias: string) => string): string =>
  `r.id, r.task, r.partition, r.started_at AS ${quote('startedAt')}, r.finished_at AS ${quote('finishedAt')},
  r.requests, r.pages, r.jobs, r.inserted, r.updated, r.events, r.missing, r.quarantined,
  r.upstream_statuses AS ${quote('upstreamStatuses')}, r.outcome, r.error`;
