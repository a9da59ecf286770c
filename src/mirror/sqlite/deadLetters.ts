/**
 * SQLite side of `event_dead_letters` (`MirrorStore.deadLetters`): events a sink gave up on after its
 * retries, kept until `events retry` resends them.
 */
import type { Mirror } from '../openMirror.ts';
import type { DeadLetter, DeadLetterInput, ListDeadLettersOptions } from '../store.ts';

export type { DeadLetter, DeadLetterInput, ListDeadLettersOptions } from '../store.ts';

const COLUMNS =
  'id, sink, seq, event_id AS eventId, attempts, last_error AS lastError, failed_at AS failedAt, resolved_at AS resolvedAt';

/** Record (or refresh) a dead letter; one row per (sink, event), re-opened if it fails again. */
export function recordDeadLetter(mirror: Mirror, d: DeadLetterInput): void {
  mirror.sqlite
    .prepare(
      `INSERT INTO event_dead_letters (sink, seq, event_id, attempts, last_error, failed_at, resolved_at)
       VALUES (?, ?, ?, ?, ?, ?, NULL)
       ON CONFLICT (sink, event_id) DO UPDATE SET
         seq = excluded.seq, attempts = excluded.attempts, last_error = excluded.last_error,
         failed_at = excluded.failed_at, resolved_at = NULL`,
    )
    .run(d.sink, d.seq, d.eventId, d.attempts, d.lastError.slice(0, 2000), Date.now());
}

export function listDeadLetters(mirror: Mirror, opts: ListDeadLettersOptions = {}): DeadLetter[] {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (!opts.includeResolved) clauses.push('resolved_at IS NULL');
  if (opts.ids) {
    clauses.push(`id IN (${opts.ids.map(() => '?').join(', ') || 'NULL'})`);
    params.push(...opts.ids);
  }
  const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  return mirror.sqlite
    .prepare(`SELECT ${COLUMNS} FROM event_dead_letters ${where} ORDER BY id`)
    .all(...params) as DeadLetter[];
}

export function markDeadLetterResolved(mirror: Mirror, id: number, attempts: number): void {
  mirror.sqlite
    .prepare('UPDATE event_dead_letters SET resolved_at = ?, attempts = ? WHERE id = ?')
    .run(Date.now(), attempts, id);
}
