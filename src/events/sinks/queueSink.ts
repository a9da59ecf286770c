/**
 * Publishes every event to a BullMQ queue for consumers in other processes or machines: job name = event
 * type, data = the event, job id = its delivery id (the event id; `<eventId>.r<n>` after the n-th
 * `events replay`). BullMQ ignores a job id it still holds, so a batch re-delivered after a crash adds no
 * duplicate while the first copy is retained, and a replay, under a new generation, is always enqueued
 * again (consumers dedupe on `eventId`).
 *
 * Redis stays bounded when nothing consumes the queue: past `maxWaiting` waiting events the oldest are
 * dropped from the queue (not from the outbox, where `events replay --sink queue` finds them), with a
 * warning at most once a minute.
 */
import { type ConnectionOptions, type KeepJobs, Queue } from 'bullmq';
import { type Logger, silentLogger } from '../../log.ts';
import { deliveryId } from '../cursors.ts';
import { queueJobId } from '../queueJobId.ts';
import { QUEUE_SINK } from '../sinkNames.ts';
import type { EventSink, MirrorEvent } from '../types.ts';

export { QUEUE_SINK };

export interface QueueSinkOptions {
  connection: ConnectionOptions;
  /** @default 'events' (config `EVENTS_QUEUE`) */
  queueName?: string;
  /** @default 'retab-mirror' (config `QUEUE_PREFIX`) */
  prefix?: string;
  /** Completed jobs kept, so Redis stays bounded. @default { count: 10000, age: 7 days } */
  removeOnComplete?: KeepJobs;
  /** Failed jobs kept. @default { count: 10000, age: 30 days } */
  removeOnFail?: KeepJobs;
  /** Waiting (unconsumed) events kept in the queue; older ones are dropped from it. @default 10000 */
  maxWaiting?: number;
  logger?: Logger;
}

/** How often the "dropped from the events queue" warning may repeat, ms (debug level in between). */
const DROP_WARN_EVERY_MS = 60_000;

export function createQueueSink(opts: QueueSinkOptions): EventSink & { queue: Queue } {
  const queue = new Queue(opts.queueName ?? 'events', {
    connection: opts.connection,
    prefix: opts.prefix ?? 'retab-mirror',
  });
  // Without a listener an emitted 'error' (Redis unreachable) would crash the process; the lane retries.
  // Connection errors fire on every reconnect attempt and the Redis health monitor already reports the
  // outage (queue/redis.ts): they are debug here, so one retry prints one warning.
  queue.on('error', (err) => {
    const connection = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|Connection is closed/i;
    (opts.logger ?? silentLogger)[connection.test(err.message) ? 'debug' : 'warn'](
      { err: err.message, sink: QUEUE_SINK },
      'events queue error',
    );
  });
  const removeOnComplete = opts.removeOnComplete ?? { count: 10_000, age: 7 * 86_400 };
  const removeOnFail = opts.removeOnFail ?? { count: 10_000, age: 30 * 86_400 };
  const maxWaiting = opts.maxWaiting ?? 10_000;
  const logger = opts.logger ?? silentLogger;
  let lastWarnAt = Number.NEGATIVE_INFINITY;
  /** Drop the oldest waiting events past the cap (BullMQ's wait list is oldest-last; clean takes its tail). */
  const enforceCap = async (lastSeq: number) => {
    const waiting = await queue.getWaitingCount();
    if (waiting <= maxWaiting) return;
    const dropped = (await queue.clean(0, waiting - maxWaiting, 'wait')).length;
    if (dropped === 0) return;
    const warn = Date.now() - lastWarnAt >= DROP_WARN_EVERY_MS;
    if (warn) lastWarnAt = Date.now();
    logger[warn ? 'warn' : 'debug'](
      { sink: QUEUE_SINK, dropped, maxWaiting, upToSeq: lastSeq - maxWaiting },
      `events queue: nothing consumed it past ${maxWaiting} waiting events, dropped the ${dropped} oldest (seq <= ${lastSeq - maxWaiting}); they stay in the outbox: \`retab-mirror events replay --sink ${QUEUE_SINK} --from-seq N\` sends them again`,
    );
  };
  return {
    name: QUEUE_SINK,
    kind: 'feed',
    queue,
    async deliver(events: MirrorEvent[], ctx) {
      await queue.addBulk(
        events.map((e) => ({
          name: e.type,
          data: e,
          opts: { jobId: queueJobId(deliveryId(e.eventId, ctx.generation)), removeOnComplete, removeOnFail },
        })),
      );
      const last = events.at(-1);
      if (last) await enforceCap(last.seq);
    },
    async close() {
      await queue.close();
    },
  };
}
