/**
 * The demo's live terminal view, read from the mirror alone (so it shows the same thing whichever process
 * syncs): jobs by status, the latest status changes, sync lag and upstream requests per minute.
 */

import type { Mirror } from '../mirror/openMirror.ts';
import { countByStatus } from '../mirror/reads.ts';
import { JOB_STATUSES } from '../retab/schemas.ts';

export interface LiveSnapshot {
  total: number;
  byStatus: Record<string, number>;
  recent: {
    from: string | null;
    to: string | null;
    endpoint: string;
    jobId: string;
    ageSeconds: number;
    inferred: boolean;
  }[];
  /** Seconds since the last successful active sweep finished; null before the first. */
  lagSeconds: number | null;
  requestsLastMinute: number;
  events: number;
}

interface EventRow {
  job_id: string;
  from_status: string | null;
  to_status: string | null;
  occurred_at: number;
  inferred: number;
  payload: string;
}

export function liveSnapshot(mirror: Mirror, now = Date.now()): LiveSnapshot {
  const byStatus = countByStatus(mirror);
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const rows = mirror.sqlite
    .prepare(
      `SELECT job_id, from_status, to_status, occurred_at, inferred, payload FROM job_events
       WHERE type = 'job.status_changed' AND backfill = 0 ORDER BY seq DESC LIMIT 8`,
    )
    .all() as EventRow[];
  const recent = rows.map((r) => {
    const payload = JSON.parse(r.payload) as { job?: { endpoint?: string } };
    return {
      from: r.from_status,
      to: r.to_status,
      endpoint: payload.job?.endpoint ?? '?',
      jobId: r.job_id,
      ageSeconds: Math.max(0, Math.round((now - r.occurred_at) / 1000)),
      inferred: r.inferred === 1,
    };
  });
  const lastActive = mirror.sqlite
    .prepare(`SELECT max(finished_at) AS t FROM sync_runs WHERE task = 'active' AND outcome = 'success'`)
    .get() as { t: number | null };
  const requests = mirror.sqlite
    .prepare('SELECT coalesce(sum(requests), 0) AS n FROM sync_runs WHERE finished_at >= ?')
    .get(now - 60_000) as { n: number };
  const events = (mirror.sqlite.prepare('SELECT count(*) AS n FROM job_events').get() as { n: number }).n;
  return {
    total,
    byStatus,
    recent,
    lagSeconds: lastActive.t === null ? null : Math.max(0, (now - lastActive.t) / 1000),
    requestsLastMinute: requests.n,
    events,
  };
}

const COLORS: Record<string, string> = {
  completed: '\x1b[32m',
  failed: '\x1b[31m',
  cancelled: '\x1b[33m',
  expired: '\x1b[35m',
  in_progress: '\x1b[36m',
};
const RESET = '\x1b[0m';

/** A full-screen frame for a TTY. */
export function renderFrame(s: LiveSnapshot, header: string[], color: boolean): string {
  const paint = (status: string | null) =>
    color && status && COLORS[status] ? `${COLORS[status]}${status}${RESET}` : String(status);
  const lines = [...header, ''];
  lines.push(
    `Mirror: ${s.total} jobs · ${s.events} events · sync lag ${s.lagSeconds === null ? '—' : `${s.lagSeconds.toFixed(1)} s`} · ${s.requestsLastMinute} upstream requests/min`,
  );
  lines.push('');
  lines.push(JOB_STATUSES.map((st) => `${paint(st)} ${s.byStatus[st] ?? 0}`).join('   '));
  lines.push('');
  lines.push('Latest status changes:');
  if (s.recent.length === 0) lines.push('  (waiting for the first change…)');
  for (const e of s.recent) {
    lines.push(
      `  ${String(e.ageSeconds).padStart(4)} s ago  ${e.jobId}  ${paint(e.from)} → ${paint(e.to)}${e.inferred ? ' (inferred)' : ''}  ${e.endpoint}`,
    );
  }
  return lines.join('\n');
}

/** One line for logs (non-TTY). */
export function renderLine(s: LiveSnapshot): string {
  const statuses = JOB_STATUSES.map((st) => `${st}=${s.byStatus[st] ?? 0}`).join(' ');
  const lag = s.lagSeconds === null ? '-' : `${s.lagSeconds.toFixed(1)}s`;
  return `mirror: ${s.total} jobs (${statuses}) · ${s.events} events · lag ${lag} · ${s.requestsLastMinute} req/min`;
}
