/**
 * SQLite reads of the outbox (`job_events`): the one reader behind `MirrorStore.outbox`. SQLite serialises
 * writers, so once seq N is visible every seq below it is committed too: a reader that resumes "after seq N"
 * can never skip a late-committing row.
 */
import type { EventType, MirrorEvent } from '../../events/index.ts';
import type { Job, JobStatus } from '../../retab/index.ts';
import type { Mirror } from '../openMirror.ts';
import { prepared } from '../prepared.ts';
import type { OutboxQuery } from '../store.ts';

type Handle = Pick<Mirror, 'sqlite'>;

/** A `job_events` row as better-sqlite3 returns it: the outbox's one row type. */
export interface EventRow {
  seq: number;
  event_id: string;
  type: string;
  job_id: string;
  from_status: string | null;
  to_status: string | null;
  occurred_at: number;
  observed_at: number;
  inferred: number;
  backfill: number;
  payload: string;
}

/** The `job_events` columns `rowToEvent` reads. */
export const EVENT_COLUMNS =
  'seq, event_id, type, job_id, from_status, to_status, occurred_at, observed_at, inferred, backfill, payload';
const COLUMNS = EVENT_COLUMNS;

/** The one wire shape of an event (`MirrorEvent`) from its outbox row: every delivery path goes through here. */
export function rowToEvent(row: EventRow): MirrorEvent {
  const payload = JSON.parse(row.payload) as { job?: Job };
  return {
    seq: row.seq,
    eventId: row.event_id,
    type: row.type as EventType,
    jobId: row.job_id,
    from: row.from_status as JobStatus | null,
    to: row.to_status as JobStatus | null,
    occurredAt: row.occurred_at,
    observedAt: row.observed_at,
    inferred: row.inferred === 1,
    backfill: row.backfill === 1,
    job: payload.job as Job,
  };
}

const AFTER = `SELECT ${COLUMNS} FROM job_events WHERE seq > ? ORDER BY seq LIMIT ?`;
const MAX = 'SELECT max(seq) AS max FROM job_events';
const BY_EVENT_ID = `SELECT ${COLUMNS} FROM job_events WHERE event_id = ?`;
const COUNT = 'SELECT count(*) AS n FROM job_events';

const isEmpty = (q: OutboxQuery): boolean =>
  !q.types?.length && !q.toStatuses?.length && q.upToSeq === undefined && !q.excludeBackfill;

function where(q: OutboxQuery, params: unknown[]): string {
  const clauses: string[] = [];
  if (q.types && q.types.length > 0) {
    clauses.push(`type IN (${q.types.map(() => '?').join(', ')})`);
    params.push(...q.types);
  }
  if (q.toStatuses && q.toStatuses.length > 0) {
    clauses.push(`to_status IN (${q.toStatuses.map(() => '?').join(', ')})`);
    params.push(...q.toStatuses);
  }
  if (q.upToSeq !== undefined) {
    clauses.push('seq <= ?');
    params.push(q.upToSeq);
  }
  if (q.excludeBackfill) clauses.push('backfill = 0');
  return clauses.length > 0 ? ` AND ${clauses.join(' AND ')}` : '';
}

/** Up to `limit` events with `seq > afterSeq` matching `q`, in seq order. */
export function readEventsAfter(
  m: Handle,
  afterSeq: number,
  limit: number,
  q: OutboxQuery = {},
): MirrorEvent[] {
  if (isEmpty(q)) return (prepared(m, AFTER).all(afterSeq, limit) as EventRow[]).map(rowToEvent);
  const params: unknown[] = [afterSeq];
  const sql = `SELECT ${COLUMNS} FROM job_events WHERE seq > ?${where(q, params)} ORDER BY seq LIMIT ?`;
  return m.sqlite
    .prepare<unknown[], EventRow>(sql)
    .all(...params, limit)
    .map(rowToEvent);
}

/** The highest seq written so far (0 for an empty outbox). */
export function maxSeq(m: Handle): number {
  return (prepared(m, MAX).get() as { max: number | null }).max ?? 0;
}

export function readEventById(m: Handle, eventId: string): MirrorEvent | undefined {
  const row = prepared(m, BY_EVENT_ID).get(eventId) as EventRow | undefined;
  return row ? rowToEvent(row) : undefined;
}

export function countEvents(m: Handle): number {
  return (prepared(m, COUNT).get() as { n: number }).n;
}

/** The last `n` matching events, oldest first (for `events tail`). */
export function readLastEvents(m: Handle, n: number, q: OutboxQuery = {}): MirrorEvent[] {
  const params: unknown[] = [];
  const sql = `SELECT ${COLUMNS} FROM job_events WHERE 1 = 1${where(q, params)} ORDER BY seq DESC LIMIT ?`;
  const rows = m.sqlite.prepare<unknown[], EventRow>(sql).all(...params, n);
  return rows.reverse().map(rowToEvent);
}

/** A job's events, oldest first (through the `job_events (job_id, seq)` index). */
export function readJobEvents(m: Handle, jobId: string): MirrorEvent[] {
  return m.sqlite
    .prepare<[string], EventRow>(`SELECT ${COLUMNS} FROM job_events WHERE job_id = ? ORDER BY seq`)
    .all(jobId)
    .map(rowToEvent);
}
