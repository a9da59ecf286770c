/** `event_dead_letters` on PostgreSQL: the same rules as ../../events/deadLetters.ts. */
import type pg from 'pg';
import type { DeadLetter, DeadLetterInput, ListDeadLettersOptions } from '../sqlite/deadLetters.ts';
import { pgText } from './pgText.ts';

const COLUMNS = `id, sink, seq, event_id AS "eventId", attempts, last_error AS "lastError", failed_at AS "failedAt",
  resolved_at AS "resolvedAt"`;

/** Record (or refresh) a dead letter; one row per (sink, event), re-opened if it fails again. */
export async function recordDeadLetterPg(pool: pg.Pool, d: DeadLetterInput): Promise<void> {
  await pool.query(
    `INSERT INTO event_dead_letters (sink, seq, event_id, attempts, last_error, failed_at, resolved_at)
     VALUES ($1, $2, $3, $4, $5, $6, NULL)
     ON CONFLICT (sink, event_id) DO UPDATE SET
       seq = excluded.seq, attempts = excluded.attempts, last_error = excluded.last_error,
       failed_at = excluded.failed_at, resolved_at = NULL`,
    [d.sink, d.seq, d.eventId, d.attempts, pgText(d.lastError.slice(0, 2000)), Date.now()],
  );
}

export async function listDeadLettersPg(
  pool: pg.Pool,
  opts: ListDeadLettersOptions = {},
): Promise<DeadLetter[]> {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (!opts.includeResolved) clauses.push('resolved_at IS NULL');
  if (opts.ids) {
    params.push(opts.ids);
    clauses.push(`id = ANY($${params.length}::bigint[])`);
  }
  const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  return (
    await pool.query<DeadLetter>(`SELECT ${COLUMNS} FROM event_dead_letters ${where} ORDER BY id`, params)
  ).rows;
}

export async function markDeadLetterResolvedPg(pool: pg.Pool, id: number, attempts: number): Promise<void> {
  await pool.query('UPDATE event_dead_letters SET resolved_at = $1, attempts = $2 WHERE id = $3', [
    Date.now(),
    attempts,
    id,
  ]);
}
