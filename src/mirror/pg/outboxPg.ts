/**
 * Reads of the PostgreSQL outbox: the same answers as ../sqlite/outbox.ts. "After seq N" is safe here as
 * on SQLite because appends are serialised (appendEvents.ts): once seq N is visible, every lower seq is
 * committed or never will be.
 */
import type pg from 'pg';
import type { MirrorEvent } from '../../events/index.ts';
import { type EventRow, rowToEvent } from '../sqlite/outbox.ts';
import type { OutboxQuery } from '../store.ts';

const COLUMNS =
  'seq, event_id, type, job_id, from_status, to_status, occurred_at, observed_at, inferred, backfill, payload';

type PgEventRow = Omit<EventRow, 'inferred' | 'backfill'> & { inferred: boolean; backfill: boolean };

const toEvent = (r: PgEventRow): MirrorEvent =>
  rowToEvent({ ...r, inferred: r.inferred ? 1 : 0, backfill: r.backfill ? 1 : 0 });

/** Up to `limit` events with `seq > afterSeq`, in seq order. */
export async function readEventsAfterPg(
  pool: pg.Pool,
  afterSeq: number,
  limit: number,
): Promise<MirrorEvent[]> {
  const r = await pool.query<PgEventRow>(
    `SELECT ${COLUMNS} FROM job_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
    [afterSeq, limit],
  );
  return r.rows.map(toEvent);
}

/** The highest seq written so far (0 for an empty outbox). */
export async function maxSeqPg(pool: pg.Pool): Promise<number> {
  const r = await pool.query<{ max: number | null }>('SELECT max(seq) AS max FROM job_events');
  return r.rows[0]?.max ?? 0;
}

export async function readEventByIdPg(pool: pg.Pool, eventId: string): Promise<MirrorEvent | undefined> {
  const r = await pool.query<PgEventRow>(`SELECT ${COLUMNS} FROM job_events WHERE event_id = $1`, [eventId]);
  return r.rows[0] ? toEvent(r.rows[0]) : undefined;
}

function where(q: OutboxQuery, params: unknown[]): string {
  const clauses: string[] = [];
  if (q.types && q.types.length > 0) {
    params.push(q.types);
    clauses.push(`type = ANY($${params.length}::text[])`);
  }
  if (q.toStatuses && q.toStatuses.length > 0) {
    params.push(q.toStatuses);
    clauses.push(`to_status = ANY($${params.length}::text[])`);
  }
  if (q.upToSeq !== undefined) {
    params.push(q.upToSeq);
    clauses.push(`seq <= $${params.length}`);
  }
  if (q.excludeBackfill) clauses.push('NOT backfill');
  return clauses.length > 0 ? ` AND ${clauses.join(' AND ')}` : '';
}

/** The last `n` matching events, oldest first (for `events tail`). */
export async function readLastEventsPg(
  pool: pg.Pool,
  n: number,
  q: OutboxQuery = {},
): Promise<MirrorEvent[]> {
  const params: unknown[] = [];
  const w = where(q, params);
  params.push(n);
  const r = await pool.query<PgEventRow>(
    `SELECT ${COLUMNS} FROM job_events WHERE true${w} ORDER BY seq DESC LIMIT $${params.length}`,
    params,
  );
  return r.rows.reverse().map(toEvent);
}

/** Matching events after `afterSeq`, oldest first (for `events tail --follow`). */
export async function readMatchingAfterPg(
  pool: pg.Pool,
  afterSeq: number,
  limit: number,
  q: OutboxQuery = {},
): Promise<MirrorEvent[]> {
  const params: unknown[] = [afterSeq];
  const w = where(q, params);
  params.push(limit);
  const r = await pool.query<PgEventRow>(
    `SELECT ${COLUMNS} FROM job_events WHERE seq > $1${w} ORDER BY seq LIMIT $${params.length}`,
    params,
  );
  return r.rows.map(toEvent);
}

/** Events in the outbox. */
export async function countEventsPg(pool: pg.Pool): Promise<number> {
  const r = await pool.query<{ n: number }>('SELECT count(*) AS n FROM job_events');
  return r.rows[0]?.n ?? 0;
}

/** A job's events, oldest first (through the `job_events (job_id, seq)` index). */
export async function readJobEventsPg(pool: pg.Pool, jobId: string): Promise<MirrorEvent[]> {
  const r = await pool.query<PgEventRow>(`SELECT ${COLUMNS} FROM job_events WHERE job_id = $1 ORDER BY seq`, [
    jobId,
  ]);
  return r.rows.map(toEvent);
}
