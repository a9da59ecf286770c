/**
 * The demo's live terminal view, read from the mirror alone (so it shows the same thing whichever process
 * syncs): jobs by status, the latest status changes, sync lag and upstream requests per minute.
 */

import type { MirrorStore } from '../mirror/index.ts';
import { JOB_STATUSES } from '../retab/index.ts';

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

export async function liveSnapshot(mirror: MirrorStore, now = Date.now()): Promise<LiveSnapshot> {
  const byStatus = await mirror.jobs.countByStatus();
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const latest = await mirror.outbox.last(8, { types: ['job.status_changed'], excludeBackfill: true });
  const recent = latest.reverse().map((e) => ({
    from: e.from,
    to: e.to,
    endpoint: e.job?.endpoint ?? '?',
    jobId: e.jobId,
    ageSeconds: Math.max(0, Math.round((now - e.occurredAt) / 1000)),
    inferred: e.inferred,
  }));
  const lastActive = await mirror.views.lastSuccessAt('active');
  const requests = await mirror.views.requestsSince(now - 60_000);
  const events = await mirror.outbox.count();
  return {
    total,
    byStatus,
    recent,
    lagSeconds: lastActive === null ? null : Math.max(0, (now - lastActive) / 1000),
    requestsLastMinute: requests,
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
