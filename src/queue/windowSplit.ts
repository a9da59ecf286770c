/**
 * The split of a queued window job's day (src/sync/daySplit.ts): claims in Redis for the whole fleet
 * (src/fleet/daySplit.ts), and the walk from the end queued as its own window job, with its own partition
 * (`window:<day>:desc`), checkpoint and job id (`window-<day>-desc`), so any worker of the fleet picks it up
 * and a second `queueTail` adds nothing.
 */
import type { Redis } from 'ioredis';
import { redisDaySplit } from '../fleet/index.ts';
import type { DaySplit } from '../sync/index.ts';
import { WINDOW_JOB_OPTS } from './backfill.ts';
import { jobIdOf, partitionOf, type SyncJobData } from './jobData.ts';
import type { SyncQueue } from './syncQueue.ts';

type WindowJobData = Extract<SyncJobData, { task: 'window' }>;

export function windowSplit(queue: SyncQueue, redis: Redis, prefix: string, window: WindowJobData): DaySplit {
  const { from: _from, restart: _restart, ...start } = window;
  const tail: WindowJobData = { ...start, from: 'end' };
  return redisDaySplit(redis, {
    prefix,
    partition: partitionOf(start),
    queueTail: async () => {
      await queue.add('window', tail, { ...WINDOW_JOB_OPTS, jobId: jobIdOf(partitionOf(tail)) });
    },
  });
}
