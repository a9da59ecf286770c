/**
 * Partition keys and the day plans of backfill and reconcile. Keys are stable, readable strings because they
 * name rows in `sync_state`, runs in `sync_runs`, BullMQ scheduler ids and log lines.
 */
import { JOB_TTL_SECONDS, type JobSource } from '../retab/index.ts';

export type PartitionSpec =
  | { task: 'head'; source?: JobSource }
  | { task: 'active'; status?: string }
  /** `from: 'end'`: the walk from the end of a dense day (daySplit.ts). */
  | { task: 'window'; day: string; source?: JobSource; from?: 'end' }
  | { task: 'hydrate' };

/**
 * `head`, `head:source=api`, `active`, `active:queued`, `window:2026-11-01`, `window:2026-11-01:source=api`,
 * `window:2026-11-01:desc` (the walk from the end of a dense day), `hydrate`.
 */
export function partitionKey(spec: PartitionSpec): string {
  switch (spec.task) {
    case 'head':
      return spec.source ? `head:source=${spec.source}` : 'head';
    case 'active':
      return spec.status ? `active:${spec.status}` : 'active';
    case 'window': {
      const key = spec.source ? `window:${spec.day}:source=${spec.source}` : `window:${spec.day}`;
      return spec.from === 'end' ? `${key}:desc` : key;
    }
    case 'hydrate':
      return 'hydrate';
  }
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

export function isDay(day: string): boolean {
  return DAY_RE.test(day) && new Date(`${day}T00:00:00Z`).toISOString().startsWith(day);
}

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Every UTC day from `from` to `to`, inclusive, oldest first; empty when `from` is after `to`. */
export function backfillDays(from: string, to: string): string[] {
  if (!isDay(from)) throw new RangeError(`invalid day "${from}": expected YYYY-MM-DD`);
  if (!isDay(to)) throw new RangeError(`invalid day "${to}": expected YYYY-MM-DD`);
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
    out.push(dayOf(t));
  }
  return out;
}

/** The last `days` days up to `now` (unix ms) as UTC days, oldest first: `days + 1` entries (both ends partial). */
export function lastDays(now: number, days: number): string[] {
  return backfillDays(dayOf(now - days * DAY_MS), dayOf(now));
}

/**
 * The UTC days of the mutable horizon: a job can still change on its own (expire) until `expires_at`, 7 days
 * after creation, so the days touching `[now − 7 d, now]` are the ones reconcile re-sweeps. Older jobs only
 * change by an explicit retry, which the active sweep sees (a retried job is `queued` again).
 */
export function reconcileDays(now: number, days = JOB_TTL_SECONDS / 86_400): string[] {
  return lastDays(now, days);
}
