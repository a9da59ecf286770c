/** One pino info line per routed event: type, job, from → to, endpoint. */
import type { Logger } from '../../log.ts';
import { LOG_SINK } from '../sinkNames.ts';
import type { EventSink } from '../types.ts';

export { LOG_SINK };

export function createLogSink(logger: Logger): EventSink {
  const log = logger.child({ sink: LOG_SINK });
  return {
    name: LOG_SINK,
    kind: 'alert',
    async deliver(events) {
      for (const e of events) {
        log.info(
          {
            event: e.type,
            seq: e.seq,
            eventId: e.eventId,
            jobId: e.jobId,
            from: e.from,
            to: e.to,
            endpoint: e.job?.endpoint,
            inferred: e.inferred || undefined,
            backfill: e.backfill || undefined,
          },
          `${e.type} ${e.jobId} ${e.from ?? '-'} → ${e.to ?? '-'} ${e.job?.endpoint ?? ''}`.trimEnd(),
        );
      }
    },
  };
}
