/**
 * Reads of the outbox (`job_events`). SQLite serializes writers, so once seq N is visible every seq below
 * it is committed too: a reader that resumes "after seq N" can never skip a late-committing row.
 */
import type Database from 'better-sqlite3';
import type { Mirror } from '../mirror/openMirror.ts';
import type { Job, JobStatus } from '../retab/schemas.ts';
import type { EventType, MirrorEvent } from './types.ts';

/** A `job_events` row as better-sqlite3 returns it. */
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

interface Statements {
  after: Database.Statement<[number, number], EventRow>;
  max: Database.Statement<[], { max: number | null }>;
  byEventId: Database.Statement<[string], EventRow>;
}
const cache = new WeakMap<Database.Database, Statements>();

function statements(sqlite: Database.Database): Statements {
  let s = cache.get(sqlite);
  if (!s) {
    s = {
      after: sqlite.prepare(`SELECT ${COLUMNS} FROM job_events WHERE seq > ? ORDER BY seq LIMIT ?`),
      max: sqlite.prepare('SELECT max(seq) AS max FROM job_events'),
      byEventId: sqlite.prepare(`SELECT ${COLUMNS} FROM job_events WHERE event_id = ?`),
    };
    cache.set(sqlite, s);
  }
  return s;
}

/** Up to `limit` events with `seq > afterSeq`, in seq order. */
export function readEventsAfter(mirror: Mirror, afterSeq: number, limit: number): MirrorEvent[] {
  return statements(mirror.sqlite).after.all(afterSeq, limit).map(rowToEvent);
}

/** The highest seq written so far (0 for an empty outbox). */
export function maxSeq(mirror: Mirror): number {
  return statements(mirror.sqlite).max.get()?.max ?? 0;
}

export function readEventById(mirror: Mirror, eventId: string): MirrorEvent | undefined {
  const row = statements(mirror.sqlite).byEventId.get(eventId);
  return row ? rowToEvent(row) : undefined;
}

export interface OutboxQuery {
  /** Only these types. */
  types?: readonly string[];
  /** Only events whose `to` status is one of these. */
  toStatuses?: readonly string[];
  /** Only events up to this seq (a snapshot of `maxSeq`, so a concurrent write is never skipped). */
  upToSeq?: number;
}

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
  return clauses.length > 0 ? ` AND ${clauses.join(' AND ')}` : '';
}

/** The last `n` matching events, oldest first (for `events tail`). */
export function readLastEvents(mirror: Mirror, n: number, q: OutboxQuery = {}): MirrorEvent[] {
  const params: unknown[] = [];
  const sql = `SELECT ${COLUMNS} FROM job_events WHERE 1 = 1${where(q, params)} ORDER BY seq DESC LIMIT ?`;
  const rows = mirror.sqlite.prepare<unknown[], EventRow>(sql).all(...params, n);
  return rows.reverse().map(rowToEvent);
}

/** Matching events after `afterSeq`, oldest first (for `events tail --follow`). */
export function readMatchingAfter(
  mirror: Mirror,
  afterSeq: number,
  limit: number,
  q: OutboxQuery = {},
): MirrorEvent[] {
  const params: unknown[] = [afterSeq];
  const sql = `SELECT ${COLUMNS} FROM job_events WHERE seq > ?${where(q, params)} ORDER BY seq LIMIT ?`;
  return mirror.sqlite
    .prepare<unknown[], EventRow>(sql)
    .all(...params, limit)
    .map(rowToEvent);
}
