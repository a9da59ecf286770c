/**
 * The change-event contract: what a sink receives and what `mirror.on(...)` listeners get. Field names are
 * camelCase; `job` is the upstream wire snapshot (snake_case, as Retab sends it) at the time of the event.
 */
import type { EventType } from '../mirror/types.ts';
import type { Job, JobStatus } from '../retab/schemas.ts';
import type { RunSummary } from '../sync/types.ts';

export type { EventType } from '../mirror/types.ts';

export const JOB_EVENT_TYPES = [
  'job.discovered',
  'job.status_changed',
  'job.missing_upstream',
] as const satisfies readonly EventType[];

/**
 * A change event, as every path carries it: the emitter, the events queue's job data, a webhook's body,
 * the SSE stream's `data`, `events tail --json` and the library. Delivered at least once; dedupe on
 * `eventId`. One job's events reach a sink in `seq` order.
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

/** What a finished sync task run reports (`sync.run_finished`): the sync engine's own `RunSummary`. */
export type { RunSummary } from '../sync/types.ts';

/** The typed event map of the in-process emitter (`mirror.on(name, listener)`). */
export interface MirrorEventMap {
  'job.discovered': MirrorEvent<'job.discovered'>;
  'job.status_changed': MirrorEvent<'job.status_changed'>;
  'job.missing_upstream': MirrorEvent<'job.missing_upstream'>;
  'sync.run_finished': RunSummary;
}
export type MirrorEventName = keyof MirrorEventMap;

export interface DeliveryContext {
  /** Aborted when the dispatcher stops: end retry waits early (the batch is then re-delivered later). */
  signal: AbortSignal;
  /** The sink's replay generation (`events replay` bumps it): make delivery ids with `deliveryId()`. */
  generation: number;
  /**
   * Acknowledge a prefix of the batch (the `seq` of the last event handled). If `deliver` then fails, the
   * cursor still advances to this point, so a long batch that fails late does not resend its head.
   */
  ack(seq: number): void;
}

/**
 * A destination of events. `deliver` resolves once the sink has taken responsibility for every event
 * (delivered it, enqueued it durably, or dead-lettered it); it rejects to have the batch retried later, or
 * with a `SinkDisabledError` when the receiver said it is gone for good.
 */
export interface EventSink {
  readonly name: string;
  /** `feed` sinks get every event; `alert` sinks only what alert rules route to them. */
  readonly kind: 'feed' | 'alert';
  deliver(events: MirrorEvent[], ctx: DeliveryContext): Promise<void>;
  close?(): Promise<void>;
}

/** Thrown by a sink whose receiver is gone for good (410 Gone): the dispatcher disables it until `events enable`. */
export class SinkDisabledError extends Error {
  override name = 'SinkDisabledError';
}
