/**
 * The change-event model, declared once: the event types, the one wire shape (`MirrorEvent`) and its JSON.
 * Everything else derives from here: the mirror's outbox writer and `EventType`, the alert-rule schema in
 * config.ts, `events tail --type`, the typed emitter's map and the console's type menu (web/src reads this
 * file, so it imports types only).
 *
 * Field names are camelCase; `job` is the upstream wire snapshot (snake_case, as Retab sends it) at the
 * time of the event.
 */
import type { Job, JobStatus } from '../retab/schemas.ts';

/** The outbox's event types (`job_events.type`), in the order the docs list them. */
export const EVENT_TYPES = ['job.discovered', 'job.status_changed', 'job.missing_upstream'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * A change event, as every path carries it: the emitter, the events queue's job data, a webhook's body,
 * the SSE stream's `data`, `events tail --json` and the library. Delivered at least once; dedupe on
 * `eventId`. One job's events reach a sink in `seq` order. The dispatcher hands one frozen object per
 * event to all its sinks (the emitter's listeners get their own, mutable copy).
 */
export interface MirrorEvent<T extends EventType = EventType> {
  /** Position in the outbox (monotonic; a sink's cursor is the last `seq` it acknowledged). */
  seq: number;
  /** Stable, deterministic id: the same change observed twice has the same id. */
  eventId: string;
  type: T;
  jobId: string;
  from: JobStatus | null;
  to: JobStatus | null;
  /** Unix ms: from the job's own timestamps where they exist, else the observation time. */
  occurredAt: number;
  /** Unix ms the mirror observed the change. */
  observedAt: number;
  /** A step the polls skipped (queued → completed emits queued → in_progress as inferred). */
  inferred: boolean;
  /** Written by a backfill run: history, not news. Alert rules ignore these unless asked. */
  backfill: boolean;
  job: Job;
}

const json = new WeakMap<MirrorEvent, string>();

/**
 * The event's JSON (a webhook's body, a `stdout` line), serialised once per event object: every attempt
 * and every sink that sends the same event reuses the string. Safe because the dispatcher's events are
 * frozen (see outboxBatches.ts); an event built elsewhere must not be changed after it was sent.
 */
export function eventJson(event: MirrorEvent): string {
  let text = json.get(event);
  if (text === undefined) {
    text = JSON.stringify(event);
    json.set(event, text);
  }
  return text;
}
