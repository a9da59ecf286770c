/**
 * What `retab-mirror status` shows: the last run of every partition and the sync lag (from `sync_runs`, no
 * Redis needed), and — when Redis answers — the job schedulers with their next run, the queue depth, the
 * live workers of the fleet with the leases they hold, and the fleet's upstream request rate (the rate
 * limiter's counts).
 * Each half degrades on its own: a missing mirror or an unreachable Redis is reported, not thrown.
 */
import type { Config } from '../config.ts';
import { describeFleet, type FleetRequestRate, type FleetView, fleetRequestRate } from '../fleet/index.ts';
import { silentLogger } from '../log.ts';
import type { MirrorStore, SyncRunRow } from '../mirror/index.ts';
import { displayLocation, openStore } from '../mirror/index.ts';
import {
  closeRedis,
  createRedis,
  describeRedisError,
  describeRedisProblem,
  RedisHealth,
  safeRedisUrl,
  waitForReady,
} from './redis.ts';
import { createSyncQueue } from './syncQueue.ts';

export interface PartitionRun {
  partition: string;
  task: string;
  outcome: string;
  jobs: number;
  requests: number;
  /** Unix ms. */
  startedAt: number;
  finishedAt: number | null;
  durationMs: number | null;
  error: string | null;
}

export interface SchedulerStatus {
  id: string;
  everyMs: number | null;
  /** Unix ms of the next run. */
  nextRunAt: number | null;
}

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  prioritized: number;
}

export interface StatusReport {
  /** Unix ms when the report was made. */
  at: number;
  mirror: { path: string; ok: boolean; error?: string };
  /** Last run of each partition, by partition key. */
  runs: PartitionRun[];
  /** now − end of the last successful active sweep; null when none ran yet. */
  syncLagMs: number | null;
  lastActiveSweepAt: number | null;
  /** `queuePrefix`: the BullMQ key prefix read (QUEUE_PREFIX); schedulers and queue are under it. */
  redis: { url: string; reachable: boolean; error?: string; queuePrefix: string };
  /** Workers connected to the sync queue under this prefix (BullMQ's client list); 0 = none running. */
  workers?: number;
  schedulers?: SchedulerStatus[];
  queue?: QueueDepth;
  /** The live workers of the fleet (presence in Redis) with the leases each holds; see fleet/presence.ts. */
  fleet?: FleetView;
  /** Upstream requests per second of every worker under this prefix together, last 10 s (Redis counts). */
  fleetRate?: FleetRequestRate;
}

export interface CollectStatusOptions {
  config: Pick<Config, 'dbPath' | 'redisUrl' | 'queuePrefix'>;
  /** An already open mirror (else `config.dbPath` is opened read-only). */
  mirror?: MirrorStore;
  /** How long to wait for Redis before reporting it unreachable, ms. @default 2000 */
  redisTimeoutMs?: number;
  now?: () => number;
}

async function lastRuns(mirror: MirrorStore): Promise<PartitionRun[]> {
  return (await mirror.runs.latestPerPartition()).map((r) => ({
    partition: r.partition,
    task: r.task,
    outcome: r.outcome,
    jobs: r.jobs,
    requests: r.requests,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.finishedAt === null ? null : r.finishedAt - r.startedAt,
    error: r.error,
  }));
}

async function redisPart(
  opts: CollectStatusOptions,
): Promise<Pick<StatusReport, 'redis' | 'workers' | 'schedulers' | 'queue' | 'fleet' | 'fleetRate'>> {
  const url = safeRedisUrl(opts.config.redisUrl);
  const queuePrefix = opts.config.queuePrefix;
  const health = new RedisHealth(opts.config.redisUrl, silentLogger);
  const redis = createRedis(opts.config.redisUrl, { health, maxAttempts: 1, minDelayMs: 200 });
  let lastError = '';
  redis.on('error', (err: Error) => {
    lastError = describeRedisError(err);
  });
  try {
    const timeout = AbortSignal.timeout(opts.redisTimeoutMs ?? 2000);
    try {
      await waitForReady(redis, timeout);
    } catch (err) {
      const why = lastError || describeRedisError(err);
      return {
        redis: { url, queuePrefix, reachable: false, error: describeRedisProblem(opts.config.redisUrl, why) },
      };
    }
    const queue = createSyncQueue(redis, opts.config.queuePrefix);
    try {
      const [schedulers, counts, workers, fleetRate] = await Promise.all([
        queue.getJobSchedulers(0, -1, true),
        queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
        queue.getWorkersCount(),
        fleetRequestRate(redis, queuePrefix),
      ]);
      const fleet = await describeFleet(redis, queuePrefix);
      return {
        redis: { url, queuePrefix, reachable: true },
        workers,
        fleet,
        fleetRate,
        schedulers: schedulers.map((s) => ({
          id: s.key,
          everyMs: s.every ?? null,
          nextRunAt: s.next ?? null,
        })),
        queue: {
          waiting: counts.waiting ?? 0,
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          failed: counts.failed ?? 0,
          completed: counts.completed ?? 0,
          prioritized: counts.prioritized ?? 0,
        },
      };
    } finally {
      await queue.close().catch(() => undefined);
    }
  } finally {
    await closeRedis(redis);
  }
}

export async function collectStatus(opts: CollectStatusOptions): Promise<StatusReport> {
  const now = opts.now ?? Date.now;
  const redis = redisPart(opts);
  let mirror = opts.mirror;
  let mirrorInfo: StatusReport['mirror'] = {
    path: mirror?.location ?? displayLocation(opts.config.dbPath),
    ok: true,
  };
  let runs: PartitionRun[] = [];
  let last: SyncRunRow | undefined;
  try {
    mirror ??= await openStore(opts.config.dbPath, { readonly: true });
    mirrorInfo = { path: mirror.location, ok: true };
    runs = await lastRuns(mirror);
    last = await mirror.runs.lastSuccessful('active');
  } catch (err) {
    mirrorInfo = { path: displayLocation(opts.config.dbPath), ok: false, error: (err as Error).message };
  } finally {
    if (!opts.mirror) await mirror?.close();
  }
  const at = now();
  const lastActiveSweepAt = last?.finishedAt ?? null;
  return {
    at,
    mirror: mirrorInfo,
    runs,
    syncLagMs: lastActiveSweepAt === null ? null : Math.max(0, at - lastActiveSweepAt),
    lastActiveSweepAt,
    ...(await redis),
  };
}
