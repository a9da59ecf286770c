/**
 * The Alerts page's numbers: where each sink is in the outbox (cursor and lag in events), the dead letters
 * (unresolved first, then the most recently resolved), and the alert rules and webhooks in force. Webhook
 * URLs are shown as origin and path only: a query string may carry a credential.
 */
import type Database from 'better-sqlite3';
import type { AlertRule, Config } from '../config.ts';
import type { AlertsView } from './wire.ts';

export type { AlertsView } from './wire.ts';

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export function computeAlertsView(
  sqlite: Database.Database,
  config: Partial<Pick<Config, 'alertRules' | 'webhooks'>>,
  limit = 100,
): AlertsView {
  const maxSeq =
    (sqlite.prepare('SELECT max(seq) AS m FROM job_events').get() as { m: number | null }).m ?? 0;
  const sinks = (
    sqlite.prepare('SELECT sink, seq, updated_at AS updatedAt FROM event_cursors ORDER BY sink').all() as {
      sink: string;
      seq: number;
      updatedAt: number;
    }[]
  ).map((c) => ({ ...c, lag: Math.max(0, maxSeq - c.seq) }));
  const deadLetters = sqlite
    .prepare(
      `SELECT d.id, d.sink, d.seq, d.event_id AS eventId, e.job_id AS jobId, d.attempts, d.last_error AS lastError,
              d.failed_at AS failedAt, d.resolved_at AS resolvedAt
       FROM event_dead_letters d LEFT JOIN job_events e ON e.seq = d.seq
       ORDER BY (d.resolved_at IS NOT NULL), d.id DESC LIMIT ?`,
    )
    .all(limit) as AlertsView['deadLetters'];
  return {
    maxSeq,
    sinks,
    deadLetters,
    rules: config.alertRules ?? [],
    webhooks: (config.webhooks ?? []).map((w) => ({ name: w.name, url: safeUrl(w.url) })),
  };
}
