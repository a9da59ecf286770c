/**
 * The change-event contract: what a sink receives and what `mirror.on(...)` listeners get. The event
 * types and the wire shape (`MirrorEvent`) are declared in eventModel.ts; this file adds the emitter's map
 * and the sink interface.
 */
import type { RunSummary } from '../sync/index.ts';
import type { EventType, MirrorEvent } from './eventModel.ts';

/** What a finished sync task run reports (`sync.run_finished`): the sync engine's own `RunSummary`. */
export type { RunSummary } from '../sync/index.ts';
export { EVENT_TYPES, type EventType, type MirrorEvent } from './eventModel.ts';

/** One entry per event type: its listeners get that type's `MirrorEvent`. */
type JobEventMap = { [T in EventType]: MirrorEvent<T> };

/** The typed event map of the in-process emitter (`mirror.on(name, listener)`). */
export interface MirrorEventMap extends JobEventMap {
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
