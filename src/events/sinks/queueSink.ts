/**
 * Publishes every event to a BullMQ queue for consumers in other processes or machines: job name = event
 * type, data = the event, job id = its delivery id (the event id; `<eventId>.r<n>` after the n-th
 * `events replay`). BullMQ ignores a job id it still holds, so a batch re-delivered after a crash adds no
 * duplicate while the first copy is retained, and a replay, under a new generation, is always enqueued
 * again (consumers dedupe on `eventId`).
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
  logger?: Logger;
}

export function createQueueSink(opts: QueueSinkOptions): EventSink & { queue: Queue } {
  const queue = new Queue(opts.queueName ?? 'events', {
    connection: opts.connection,
    prefix: opts.prefix ?? 'retab-mirror',
  });
  // Without a listener an emitted 'error' (Redis unreachable) would crash the process; the lane retries.
  // One line per error, no stack: during an outage this fires on every reconnect attempt.
  queue.on('error', (err) =>
    (opts.logger ?? silentLogger).warn({ err: err.message, sink: QUEUE_SINK }, 'events queue error'),
  );
  const removeOnComplete = opts.removeOnComplete ?? { count: 10_000, age: 7 * 86_400 };
  const removeOnFail = opts.removeOnFail ?? { count: 10_000, age: 30 * 86_400 };
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
    },
    async close() {
      await queue.close();
    },
  };
}
