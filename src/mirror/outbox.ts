/**
 * Writing change events to the outbox (`job_events`), always inside the transaction of the write that caused
 * them. Event ids are deterministic, so re-applying an observation can never add a second event for the same
 * transition (`INSERT OR IGNORE` on the unique id).
 */
import * as crypto from 'node:crypto';
import type { JobStatus } from '../retab/index.ts';
import type { Mirror } from './openMirror.ts';
import { prepared } from './prepared.ts';
import type { EventType } from './types.ts';

// crypto.hash (Node >= 20.12) skips the Hash object: this runs once per event on the write path.
const sha1: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha1', text, 'base64url')
    : (text) => crypto.createHash('sha1').update(text).digest('base64url');

/** The outbox's event types: declared once, in events/eventModel.ts. */
export { EVENT_TYPES } from '../events/eventModel.ts';

/**
 * `evt_` + the occurrence time (unix ms, base 36, 9 digits) + 22 base64url characters of
 * sha1(`jobId|type|from|to|occurredAt`). Deterministic, so the same transition is never stored twice; time
 * first, so ids sort by occurrence and the unique index grows at its end. A retry cycle that ends in the
 * same status again gets new ids because its steps occur at new times.
 */
export function eventId(
  jobId: string,
  type: EventType,
  from: JobStatus | null,
  to: JobStatus | null,
  occurredAt: number,
): string {
  const digest = sha1(`${jobId}|${type}|${from}|${to}|${occurredAt}`);
  return `evt_${Math.max(0, Math.trunc(occurredAt)).toString(36).padStart(9, '0')}${digest.slice(0, 22)}`;
}

/** The parsed `payload` of an outbox row. */
export interface EventPayload {
  /** The job after the change, as the API shows it, with `request`/`response` null. */
  job: Record<string, unknown>;
  from: JobStatus | null;
  to: JobStatus | null;
  inferred: boolean;
  backfill: boolean;
  /** Unix ms. */
  observed_at: number;
}

/** Payload JSON around an already serialized snapshot, so one job's snapshot is stringified once per page. */
export function payloadJson(
  snapshotJson: string,
  from: JobStatus | null,
  to: JobStatus | null,
  inferred: boolean,
  backfill: boolean,
  observedAt: number,
): string {
  return `{"job":${snapshotJson},"from":${from === null ? 'null' : `"${from}"`},"to":${to === null ? 'null' : `"${to}"`},"inferred":${inferred},"backfill":${backfill},"observed_at":${observedAt}}`;
}

const INSERT_EVENT = `INSERT OR IGNORE INTO job_events
  (event_id, type, job_id, from_status, to_status, occurred_at, observed_at, inferred, backfill, payload)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * Writes one event (positional: it runs once per event on the write path); returns 1 when it was new, 0
 * when an identical one was already stored.
 */
export type EventWriter = (
  jobId: string,
  type: EventType,
  from: JobStatus | null,
  to: JobStatus | null,
  occurredAt: number,
  observedAt: number,
  inferred: boolean,
  backfill: boolean,
  snapshotJson: string,
) => number;

/** A writer bound to `mirror`'s prepared insert. */
export function eventWriter(mirror: Mirror): EventWriter {
  const stmt = prepared(mirror, INSERT_EVENT);
  return (jobId, type, from, to, occurredAt, observedAt, inferred, backfill, snapshotJson) =>
    stmt.run(
      eventId(jobId, type, from, to, occurredAt),
      type,
      jobId,
      from,
      to,
      occurredAt,
      observedAt,
      inferred ? 1 : 0,
      backfill ? 1 : 0,
      payloadJson(snapshotJson, from, to, inferred, backfill, observedAt),
    ).changes;
}
