/**
 * The schedule, as BullMQ job schedulers: one per partition (`head`, `active:<status>` for each configured
 * status, `hydrate`, `reconcile`), each with the interval from the config. `syncSchedulers` makes Redis match
 * the config: it upserts what changed (idempotent by scheduler id, so starting twice adds nothing) and
 * removes schedulers of partitions the config no longer has (a status dropped from ACTIVE_STATUSES).
 *
 * Every worker of a fleet reconciles at start (and now and then), so N workers can do it at once: each reads
 * "missing" and upserts, and each removes the stale ones. The reconcile therefore runs under the fleet lease
 * `schedulers` (src/fleet/lease.ts): one worker at a time reads and writes, the next finds them unchanged, so
 * "scheduler created" is logged once per fleet. Measured without it (test/fleet/schedulersOnce.test.ts): 5
 * workers starting together reported 27 creations for 6 schedulers and removed one stale scheduler 5 times;
 * BullMQ's upsert-by-id still left one pending run each, so the lease makes the result exact, not the queue.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { acquireLease } from '../fleet/index.ts';
import type { Logger } from '../log.ts';
import { partitionOf, type SyncJobData } from './jobData.ts';

/** Bounded history: every scheduler tick creates a job, and Redis must not grow without limit. */
export const SCHEDULED_JOB_OPTS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 200 },
  removeOnFail: { age: 7 * 86_400, count: 500 },
} as const;

export interface PlannedScheduler {
  /** Scheduler id = partition key. */
  id: string;
  every: number;
  data: SyncJobData;
}

export type ScheduleConfig = Pick<
  Config,
  'headEveryMs' | 'activeEveryMs' | 'hydrateEveryMs' | 'reconcileEveryMs' | 'activeStatuses'
>;

/** The schedulers the config asks for. */
export function planSchedulers(config: ScheduleConfig): PlannedScheduler[] {
  const data: [SyncJobData, number][] = [
    [{ task: 'head' }, config.headEveryMs],
    ...config.activeStatuses.map((status): [SyncJobData, number] => [
      { task: 'active', status },
      config.activeEveryMs,
    ]),
    [{ task: 'hydrate' }, config.hydrateEveryMs],
    [{ task: 'reconcile' }, config.reconcileEveryMs],
  ];
  return data.map(([d, every]) => ({ id: partitionOf(d), every, data: d }));
}

export interface SchedulerSyncResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  removed: string[];
}

const stable = (v: unknown) => JSON.stringify(v ?? null);

/**
 * A reconcile is a few Redis round trips; the lease outlives a holder that died mid-way by this much at most.
 */
const SCHEDULERS_LEASE_TTL_MS = 10_000;

/**
 * Make the schedulers in Redis match `planSchedulers(config)`, holding the fleet lease `schedulers` (waits
 * while another worker reconciles).
 * @throws the Redis error when Redis cannot be reached.
 */
export async function syncSchedulers(
  queue: Queue,
  config: ScheduleConfig,
  logger: Logger,
): Promise<SchedulerSyncResult> {
  // The queue's own connection (BullMQ's Redis backend exposes it): the lease lives beside the queue.
  const redis = (await queue.getBackend().client) as unknown as Redis; // ioredis: the connection we gave it
  const lease = await acquireLease(redis, 'schedulers', {
    prefix: queue.opts.prefix ?? 'bull',
    ttlMs: SCHEDULERS_LEASE_TTL_MS,
    pollMs: 100,
  });
  try {
    return await reconcileSchedulers(queue, config, logger);
  } finally {
    await lease.release();
  }
}

async function reconcileSchedulers(
  queue: Queue,
  config: ScheduleConfig,
  logger: Logger,
): Promise<SchedulerSyncResult> {
  const planned = planSchedulers(config);
  const existing = new Map((await queue.getJobSchedulers()).map((s) => [s.key, s]));
  const result: SchedulerSyncResult = { created: [], updated: [], unchanged: [], removed: [] };
  for (const p of planned) {
    const current = existing.get(p.id);
    existing.delete(p.id);
    const same =
      current !== undefined &&
      current.every === p.every &&
      current.name === p.data.task &&
      stable(current.template?.data) === stable(p.data) &&
      stable(current.template?.opts?.removeOnComplete) === stable(SCHEDULED_JOB_OPTS.removeOnComplete);
    if (same) {
      result.unchanged.push(p.id);
      continue;
    }
    // A new scheduler's first run is immediate, except reconcile's: a fresh mirror is being filled by head
    // already, and sweeping the last week again right away would only double that work.
    const deferred = p.data.task === 'reconcile' ? { startDate: Date.now() + p.every } : {};
    await queue.upsertJobScheduler(
      p.id,
      { every: p.every, ...deferred },
      { name: p.data.task, data: p.data, opts: SCHEDULED_JOB_OPTS },
    );
    (current ? result.updated : result.created).push(p.id);
    logger.info(
      { scheduler: p.id, everyMs: p.every, previousEveryMs: current?.every },
      current ? 'scheduler updated' : 'scheduler created',
    );
  }
  for (const id of existing.keys()) {
    await removeScheduler(queue, id);
    result.removed.push(id);
    logger.info({ scheduler: id }, 'scheduler removed: its partition is no longer in the config');
  }
  return result;
}

/**
 * Remove a scheduler and the run it already queued: `removeJobScheduler` leaves a waiting or delayed job
 * behind, which would still run once.
 */
async function removeScheduler(queue: Queue, id: string): Promise<void> {
  await queue.removeJobScheduler(id);
  const pending = await queue.getJobs(['delayed', 'waiting', 'prioritized']);
  for (const job of pending) {
    if (job?.repeatJobKey === id || job?.id?.startsWith(`repeat:${id}:`)) {
      await job.remove().catch(() => undefined); // already taken by a worker: the processor skips it
    }
  }
}
