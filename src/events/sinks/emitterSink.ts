/**
 * Feeds every event to the in-process emitter; listener failures are contained by `MirrorEvents.emit`.
 * The dispatcher's events are shared by all its sinks and frozen (outboxBatches.ts): listeners, which are
 * the library user's code, get their own copy, as mutable as an event read for them alone.
 */
import type { MirrorEvents } from '../mirrorEvents.ts';
import { EMITTER_SINK } from '../sinkNames.ts';
import type { EventSink, MirrorEventMap } from '../types.ts';

export { EMITTER_SINK };

export function createEmitterSink(emitter: MirrorEvents, name = EMITTER_SINK): EventSink {
  return {
    name,
    kind: 'feed',
    async deliver(events, ctx) {
      for (const event of events) {
        if (emitter.listenerCount(event.type) > 0) {
          await emitter.emit(event.type, structuredClone(event) as MirrorEventMap[typeof event.type]);
        }
        ctx.ack(event.seq);
      }
    },
  };
}
