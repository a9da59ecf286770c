/** The `sync` queue handle, shared by the worker, `backfill` and `status`. */
import { type ConnectionOptions, Queue } from 'bullmq';
import type { SyncJobData } from './jobData.ts';
import { SYNC_QUEUE } from './jobData.ts';

export type SyncQueue = Queue<SyncJobData>;

export function createSyncQueue(connection: ConnectionOptions, prefix: string): SyncQueue {
  const queue = new Queue<SyncJobData>(SYNC_QUEUE, { connection, prefix });
  // BullMQ re-emits connection errors here; without a listener Node would throw them. The Redis health
  // monitor (redis.ts) already reports outages.
  queue.on('error', () => undefined);
  return queue;
}
