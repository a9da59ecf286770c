/**
 * Writing change events to the outbox (`job_events`), always inside the transaction of the write that caused
 * them. Event ids are deterministic, so re-applying an observation can never add a second event for the same
 * transition (`INSERT OR IGNORE` on the unique id).
 */
import { createHash } from 'node:crypto';
import type { JobStatus } from '../retab/schemas.ts';
import type { Mirror } from './openMirror.ts';
import { prepared } from './prepared.ts';
import type { EventType } from './types.ts';

export const EVENT_TYPES = [
  'job.discovered',
  'job.status_changed',
  'job.missing_upstream',
] as const satisfies readonly EventType[];

/**
 * `evt_` + base64url(sha1(`jobId|type|from|to|occurredAt`)). A retry cycle that ends in the same status again
 * gets new ids because its steps occur at new times.
 */
export function eventId(
  jobId: string,
  type: EventType,
  from: JobStatus | null,
  to: JobStatus | null,
  occurredAt: number,
): string {
  const digest = createHash('sha1')
    .update(`${jobId}|${type}|${from}|${to}|${occurredAt}`)
    .digest('base64url');
  return `evt_${digest}`;
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

export interface OutboxEvent {
  jobId: string;
  type: EventType;
  from: JobStatus | null;
  to: JobStatus | null;
  occurredAt: number;
  observedAt: number;
  inferred: boolean;
  backfill: boolean;
  snapshotJson: string;
}

const INSERT_EVENT = `INSERT OR IGNORE INTO job_events
  (event_id, type, job_id, from_status, to_status, occurred_at, observed_at, inferred, backfill, payload)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export type EventWriter = (e: OutboxEvent) => number;

/** A writer bound to `mirror`; returns 1 when the event was new, 0 when an identical one was already there. */
export function eventWriter(mirror: Mirror): EventWriter {
  const stmt = prepared(mirror, INSERT_EVENT);
  return (e) =>
    stmt.run(
      eventId(e.jobId, e.type, e.from, e.to, e.occurredAt),
      e.type,
      e.jobId,
      e.from,
      e.to,
      e.occurredAt,
      e.observedAt,
      e.inferred ? 1 : 0,
      e.backfill ? 1 : 0,
      payloadJson(e.snapshotJson, e.from, e.to, e.inferred, e.backfill, e.observedAt),
    ).changes;
}
