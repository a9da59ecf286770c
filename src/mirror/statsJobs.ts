/**
 * Aggregates over the mirror: counts, failures, run-time and queue-wait percentiles per group, and
 * throughput per UTC day. One streaming pass over the matching rows (only five small columns each), so the
 * cost is linear in the jobs selected and the memory two numbers per job.
 */
import { utcDay } from '../retab/index.ts';
import { buildQuery, type JobFilters, registerQueryFunctions } from './buildWhere.ts';
import type { Mirror } from './openMirror.ts';
import { everyMatchDriver } from './queryJobs.ts';
import type { StatsGroupBy } from './statsGroupBy.ts';

export interface StatsOptions {
  groupBy: StatsGroupBy;
  /** First UTC day (`YYYY-MM-DD`, inclusive) on `created_at`; overrides `filters.from_date`. */
  from?: string;
  /** Last UTC day (inclusive) on `created_at`; overrides `filters.to_date`. */
  to?: string;
  /** Any list filter (status, endpoint, metadata, filename…), as `GET /v1/jobs` takes them. */
  filters?: JobFilters;
}

export interface StatsRow {
  /** The group's value; null for jobs without one (no model, no error code). `total` for the totals row. */
  key: string | null;
  count: number;
  completed: number;
  failed: number;
  /** failed ÷ (completed + failed); null while none has finished. */
  failureRate: number | null;
  /** `completed_at − started_at`, seconds, over completed and failed jobs (nearest-rank percentiles). */
  durationP50: number | null;
  durationP95: number | null;
  durationP99: number | null;
  /** `started_at − created_at`, seconds, over jobs that started. */
  queueWaitP50: number | null;
  queueWaitP95: number | null;
  queueWaitP99: number | null;
}

export interface ThroughputDay {
  day: string;
  /** Jobs created that day. */
  created: number;
  /** Jobs of the selection that completed (status `completed`) that day, by `completed_at`. */
  completed: number;
  /** Jobs of the selection that failed that day, by `completed_at`. */
  failed: number;
}

export interface StatsResult {
  groupBy: StatsGroupBy;
  from: string | null;
  to: string | null;
  rows: StatsRow[];
  totals: StatsRow;
  throughput: ThroughputDay[];
}

const KEY_EXPR: Record<StatsGroupBy, string> = {
  status: 'j.status',
  endpoint: 'j.endpoint',
  model: 'j.model',
  source: 'j.source',
  day: "strftime('%Y-%m-%d', j.created_at, 'unixepoch')",
  error_code: 'j.error_code',
  last_failure_code: 'j.last_failure_code',
  attempts: 'CAST(j.attempt_count AS TEXT)',
};

/** Nearest-rank percentile of ascending values: the smallest value with at least p% of values ≤ it. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[rank - 1] ?? null;
}

/** The percentiles of a stats row, in its column order (`…P50`, `…P95`, `…P99`). */
const PERCENTILES = [50, 95, 99] as const;

/**
 * One stats row from a group's counts and its duration and queue-wait percentiles (ms, in `PERCENTILES`
 * order; missing = null). Both stores shape their rows here, so `failureRate` is computed once.
 */
export function statsRow(
  key: string | null,
  c: { count: number; completed: number; failed: number },
  d: readonly (number | null)[],
  w: readonly (number | null)[],
): StatsRow {
  const finished = c.completed + c.failed;
  return {
    key,
    count: c.count,
    completed: c.completed,
    failed: c.failed,
    failureRate: finished === 0 ? null : c.failed / finished,
    durationP50: d[0] ?? null,
    durationP95: d[1] ?? null,
    durationP99: d[2] ?? null,
    queueWaitP50: w[0] ?? null,
    queueWaitP95: w[1] ?? null,
    queueWaitP99: w[2] ?? null,
  };
}

class Group {
  count = 0;
  completed = 0;
  failed = 0;
  durations: number[] = [];
  waits: number[] = [];

  add(status: string, createdAt: number, startedAt: number | null, completedAt: number | null): void {
    this.count++;
    if (status === 'completed') this.completed++;
    else if (status === 'failed') this.failed++;
    if (startedAt !== null) {
      this.waits.push(startedAt - createdAt);
      // Expired and cancelled jobs stop at the deadline or the cancel, not at the end of processing.
      if (completedAt !== null && (status === 'completed' || status === 'failed')) {
        this.durations.push(completedAt - startedAt);
      }
    }
  }

  row(key: string | null): StatsRow {
    const d = Float64Array.from(this.durations).sort();
    const w = Float64Array.from(this.waits).sort();
    const at = (v: Float64Array) => PERCENTILES.map((p) => nearestRank(v, p));
    return statsRow(key, this, at(d), at(w));
  }
}

type RawRow = [string | null, string, number, number | null, number | null];

export function statsJobs(mirror: Pick<Mirror, 'sqlite'>, opts: StatsOptions): StatsResult {
  const filters: JobFilters = { ...opts.filters };
  if (opts.from !== undefined) filters.from_date = opts.from;
  if (opts.to !== undefined) filters.to_date = opts.to;
  registerQueryFunctions(mirror.sqlite);
  const q = buildQuery(filters, everyMatchDriver(mirror.sqlite, filters));
  const cond = q.where.length > 0 ? `WHERE ${q.where.join(' AND ')}` : '';
  const text = `SELECT ${KEY_EXPR[opts.groupBy]} AS k, j.status, j.created_at, j.started_at, j.completed_at
    FROM ${q.from} ${cond}`;
  const groups = new Map<string | null, Group>();
  const total = new Group();
  // Keyed by day number: one date formatting per day, not per job.
  const byDayNumber = new Map<number, ThroughputDay>();
  const day = (unixSeconds: number): ThroughputDay => {
    const n = Math.floor(unixSeconds / 86_400);
    let t = byDayNumber.get(n);
    if (!t) {
      t = { day: utcDay(n * 86_400), created: 0, completed: 0, failed: 0 };
      byDayNumber.set(n, t);
    }
    return t;
  };
  // A fresh statement, as an iterating one cannot serve another caller until it is done (prepared.ts).
  const stmt = mirror.sqlite.prepare(text).raw(true);
  for (const r of stmt.iterate(...q.args) as IterableIterator<RawRow>) {
    const [key, status, createdAt, startedAt, completedAt] = r;
    let g = groups.get(key);
    if (!g) {
      g = new Group();
      groups.set(key, g);
    }
    g.add(status, createdAt, startedAt, completedAt);
    total.add(status, createdAt, startedAt, completedAt);
    day(createdAt).created++;
    if (completedAt !== null && (status === 'completed' || status === 'failed')) day(completedAt)[status]++;
  }
  const rows = [...groups].map(([key, g]) => g.row(key));
  if (opts.groupBy === 'day') rows.sort((a, b) => String(a.key).localeCompare(String(b.key)));
  else rows.sort((a, b) => b.count - a.count || String(a.key).localeCompare(String(b.key)));
  return {
    groupBy: opts.groupBy,
    from: filters.from_date ?? null,
    to: filters.to_date ?? null,
    rows,
    totals: total.row('total'),
    throughput: [...byDayNumber.values()].sort((a, b) => a.day.localeCompare(b.day)),
  };
}
