/** BullMQ: the sync queue, its job schedulers per partition, the worker that runs the task catalogue, backfill and status. */

export { enqueueBackfill } from './backfill.ts';
export {
  closeRedis,
  createRedis,
  describeRedisError,
  describeRedisProblem,
  pingRedis,
  RedisHealth,
  waitForReady,
} from './redis.ts';
export type { PartitionRun, StatusReport } from './status.ts';
export { collectStatus } from './status.ts';
export { createSyncQueue } from './syncQueue.ts';
export type { RunningWorker } from './worker.ts';
export { startWorker, WorkerStartAborted } from './worker.ts';
