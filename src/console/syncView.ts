/**
 * The Sync page's numbers, from `sync_runs`, `sync_state` and `quarantine`: per partition its last runs,
 * the sync lag of each scheduled task against its schedule, upstream answers by HTTP status per bucket
 * (retries included, from each run's `upstream_statuses`), and the newest quarantined items. Every read is
 * an index range read bounded by a limit or by the chosen time range (runs are read newest first by id,
 * which follows `started_at`), so it costs what the page shows, not what the mirror holds.
 */
import type Database from 'better-sqlite3';
import { bucketWidth } from './overview.ts';
import type { PartitionView, RunView, SyncView, TaskLag } from './wire.ts';

export type { PartitionView, RunView, SyncView, TaskLag } from './wire.ts';

export interface SyncViewOptions {
  /** Unix seconds, inclusive / exclusive: the range of the upstream chart. */
  from: number;
  to: number;
  /** Last runs shown per partition. @default 5 */
  runsPerPartition?: number;
  /** Partitions shown (scheduled ones first, then the newest windows). @default 60 */
  maxPartitions?: number;
  schedule: Record<string, number>;
  now?: number;
}

type RunRow = {
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
};

const toRun = (r: RunRow): RunView => ({
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

export function computeSyncView(sqlite: Database.Database, opts: SyncViewOptions): SyncView {
  const now = opts.now ?? Date.now();
  const states = sqlite
    .prepare(
      `SELECT partition, status, last_success_at AS lastSuccessAt, last_error AS lastError FROM sync_state
       ORDER BY (partition LIKE 'window:%'), partition DESC LIMIT ?`,
    )
    .all(opts.maxPartitions ?? 60) as Omit<PartitionView, 'runs'>[];
  const runsOf = sqlite.prepare(
    `SELECT id, task, outcome, started_at, finished_at, requests, jobs, events, quarantined, error
     FROM sync_runs WHERE partition = ? ORDER BY id DESC LIMIT ?`,
  );
  const partitions = states.map((s) => ({
    ...s,
    runs: (runsOf.all(s.partition, opts.runsPerPartition ?? 5) as RunRow[]).map(toRun),
  }));

  const lastOk = sqlite.prepare(
    `SELECT finished_at AS t FROM sync_runs WHERE task = ? AND outcome = 'success' ORDER BY id DESC LIMIT 1`,
  );
  const lag = Object.entries(opts.schedule).map(([task, everyMs]) => {
    const t = (lastOk.get(task) as { t: number | null } | undefined)?.t ?? null;
    const lagMs = t === null ? null : Math.max(0, now - t);
    return { task, everyMs, lastSuccessAt: t, lagMs, late: lagMs !== null && lagMs > 3 * everyMs };
  });

  const width = bucketWidth(opts.from, opts.to);
  const start = Math.floor(opts.from / width) * width;
  const n = Math.max(1, Math.ceil((opts.to - start) / width));
  const byStatus: Record<string, number[]> = {};
  // Runs repeat a handful of distinct answers (`{"200":2}`): each distinct text is parsed once.
  const seen = new Map<string, [string, number][]>();
  // Newest first by id (ids follow start times): stop at the first run older than the range.
  const rows = sqlite
    .prepare('SELECT started_at, upstream_statuses FROM sync_runs ORDER BY id DESC')
    .raw(true)
    .iterate() as IterableIterator<[number, string | null]>;
  for (const [startedMs, statuses] of rows) {
    const t = Math.floor(startedMs / 1000);
    if (t < opts.from) break;
    if (t >= opts.to || statuses === null) continue;
    const b = Math.floor((t - start) / width);
    let parsed = seen.get(statuses);
    if (parsed === undefined) {
      try {
        parsed = Object.entries(JSON.parse(statuses) as Record<string, number>);
      } catch {
        parsed = [];
      }
      seen.set(statuses, parsed);
    }
    for (const [code, count] of parsed) {
      const arr = byStatus[code] ?? new Array<number>(n).fill(0);
      arr[b] = (arr[b] ?? 0) + count;
      byStatus[code] = arr;
    }
  }

  const quarantine = sqlite
    .prepare(
      `SELECT id, job_id AS jobId, partition, reason, observed_at AS observedAt FROM quarantine
       ORDER BY id DESC LIMIT 50`,
    )
    .all() as SyncView['quarantine'];
  return {
    at: now,
    partitions,
    lag,
    upstream: {
      bucketSeconds: width,
      buckets: Array.from({ length: n }, (_, b) => start + b * width),
      byStatus,
    },
    quarantine,
  };
}
