/**
 * Appending change events to the PostgreSQL outbox (`job_events`), inside the transaction of the write that
 * caused them; same ids, payloads and "already stored → ignored" rule as on SQLite (../outbox.ts).
 *
 * The pitfall: `seq` comes from a sequence, assigned when the row is inserted, not when its transaction
 * commits. With two writers, A may take seq 41, B seq 42, B commit first: a dispatcher reading "after 40"
 * then sees 42, moves its cursor to 42, and never reads 41 when A commits a moment later. An event lost for
 * good, with no error anywhere.
 *
 * The fix chosen here: outbox appends are serialised. Each transaction takes one advisory lock
 * (`pg_advisory_xact_lock(OUTBOX)`, held until its commit or rollback) just before it inserts its events,
 * and does nothing else after it but commit. So the next transaction can only draw seqs after this one has
 * committed: seq order is commit order, and once a reader sees seq N committed, every lower seq is either
 * committed too or never will be (a rollback leaves a gap, never a late row). Readers need nothing special:
 * "after seq N" is safe as it is on SQLite. The price is that appends queue behind each other for the few
 * milliseconds of an INSERT and a COMMIT; the rows, derived rows and checkpoint of concurrent pages are
 * still written in parallel, since the lock is taken last (after the job locks: locks.ts gives the order).
 *
 * The alternative, reading only below the oldest transaction still in flight (`pg_snapshot_xmin(
 * pg_current_snapshot())` plus an xid column), keeps appends parallel but makes every reader's query depend
 * on the oldest open transaction in the whole database (a BI tool's long read would stall delivery), and
 * needs care around xid wraparound. A mirror writes at most a few pages a second: serialising is simpler.
 */
import type pg from 'pg';
import type { MirrorEvent } from '../../events/index.ts';
import { eventId, payloadJson } from '../outbox.ts';
import { LOCK_CLASS_OUTBOX } from './locks.ts';
import { pgText } from './pgText.ts';

/**
 * One event to append, before its id and payload are derived: the fields of the wire event (declared once,
 * `MirrorEvent` in events/eventModel.ts) plus the job snapshot, already serialised (one per job per page).
 */
export type NewEvent = Pick<
  MirrorEvent,
  'jobId' | 'type' | 'from' | 'to' | 'occurredAt' | 'observedAt' | 'inferred' | 'backfill'
> & { snapshotJson: string };

const INSERT_EVENTS = `INSERT INTO job_events
  (event_id, type, job_id, from_status, to_status, occurred_at, observed_at, inferred, backfill, payload)
  SELECT event_id, type, job_id, from_status, to_status, occurred_at, observed_at, inferred, backfill, payload
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
    $8::boolean[], $9::boolean[], $10::text[])
    WITH ORDINALITY AS e(event_id, type, job_id, from_status, to_status, occurred_at, observed_at, inferred,
      backfill, payload, ord)
  ORDER BY ord
  ON CONFLICT (event_id) DO NOTHING`;

/**
 * Append `events` in their order (their seqs follow it) under the outbox lock; an event whose id is already
 * stored is skipped. Must run inside a transaction, as its LAST statement before COMMIT (the lock is held
 * until then). Returns how many were new.
 */
export async function appendEvents(client: pg.PoolClient, events: readonly NewEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], []];
  for (const e of events) {
    cols[0]?.push(eventId(e.jobId, e.type, e.from, e.to, e.occurredAt));
    cols[1]?.push(e.type);
    cols[2]?.push(pgText(e.jobId));
    cols[3]?.push(pgText(e.from));
    cols[4]?.push(pgText(e.to));
    cols[5]?.push(e.occurredAt);
    cols[6]?.push(e.observedAt);
    cols[7]?.push(e.inferred);
    cols[8]?.push(e.backfill);
    cols[9]?.push(payloadJson(e.snapshotJson, e.from, e.to, e.inferred, e.backfill, e.observedAt));
  }
  await client.query('SELECT pg_advisory_xact_lock($1, 1)', [LOCK_CLASS_OUTBOX]);
  const r = await client.query(INSERT_EVENTS, cols);
  return r.rowCount ?? 0;
}
