/** One JSON line per routed event on stdout (or any writable), honouring backpressure. */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { eventJson } from '../eventModel.ts';
import { STDOUT_SINK } from '../sinkNames.ts';
import type { EventSink } from '../types.ts';

export { STDOUT_SINK };

export function createStdoutSink(out: Writable = process.stdout): EventSink {
  return {
    name: STDOUT_SINK,
    kind: 'alert',
    async deliver(events, ctx) {
      for (const e of events) {
        if (!out.write(`${eventJson(e)}\n`)) await once(out, 'drain');
        ctx.ack(e.seq);
      }
    },
  };
}
