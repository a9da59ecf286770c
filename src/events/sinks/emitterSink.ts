/** Feeds every event to the in-process emitter; listener failures are contained by `MirrorEvents.emit`. */
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
        await emitter.emit(event.type, event as MirrorEventMap[typeof event.type]);
        ctx.ack(event.seq);
      }
    },
  };
}
