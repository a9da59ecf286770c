/**
 * `startWorker`: the scheduled mirror. Opens the mirror once (one writer per SQLite file), waits for Redis
 * (reporting each reconnect attempt), makes the job schedulers match the config, and runs the `sync` queue
 * with a global upstream rate limit. `close()` is the graceful stop every caller uses (CLI signals, the demo,
 * tests): stop taking jobs, abort the running tasks (each commits its current page and checkpoint), then
 * close BullMQ, the event dispatcher, Redis and the mirror.
 */
import { Worker } from 'bullmq';
import type { Backoff } from '../backoff.ts';
import type { Config } from '../config.ts';
import { createDispatcher, type MirrorDispatcher } from '../events/index.ts';
import {
  createFleetRateLimiter,
  DEFAULT_PRESENCE_TTL_MS,
  type PublishedPresence,
  publishPresence,
  tryAcquireLease,
} from '../fleet/index.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';
import { watchMirrorFile } from '../mirror/index.ts';
import type { LimiterScope, RetabClient } from '../retab/index.ts';
import { clientFromConfig, processRequestLimiter } from '../retab/index.ts';
import type { PageInfo } from '../sync/index.ts';
import { FatalGate, type FatalGateOptions } from './fatalGate.ts';
import { SYNC_QUEUE, type SyncJobData } from './jobData.ts';
import { lockSqliteWriter } from './oneWriter.ts';
import { redisPartitionLeases } from './partitionLeases.ts';
import { createProcessor, type SyncJobResult } from './processor.ts';
import {
  closeRedis,
  createRedis,
  describeRedisError,
  RedisHealth,
  type RedisRetryOptions,
  waitForReady,
} from './redis.ts';
import { type SchedulerSyncResult, syncSchedulers } from './schedulers.ts';
import { createSyncQueue, type SyncQueue } from './syncQueue.ts';
import { windowSplit } from './windowSplit.ts';
import { openMirrorPatiently, unlockAnd, WorkerStartAborted } from './workerMirror.ts';
import { logWorkerEvents, trackRuns } from './workerRuns.ts';

export { WorkerStartAborted } from './workerMirror.ts';
export { runLine } from './workerRuns.ts';

export interface StartWorkerOptions {
  config: Config;
  /** @default silentLogger */
  logger?: Logger;
  /** An open mirror to write to; when omitted the worker opens `config.dbPath` and closes it on `close()`. */
  mirror?: MirrorStore;
  /** @default clientFromConfig(config) paced by the fleet's rate limiter on this Redis and QUEUE_PREFIX */
  client?: RetabClient;
  /** Aborting it is the same as calling `close()` (and cancels a start still waiting for Redis). */
  signal?: AbortSignal;
  /** Unix ms clock for the sync tasks (tests pass the simulator's). @default Date.now */
  now?: () => number;
  /** Make the job schedulers match the config at start. @default true */
  schedulers?: boolean;
  /** Also called after every committed page (progress display). */
  onPage?: (info: PageInfo) => void;
  /** Deliver change events (outbox dispatcher and its sinks) from this process. @default true */
  events?: boolean;
  /** How long `close()` lets running tasks reach their checkpoint before forcing, ms. @default 8000 */
  closeTimeoutMs?: number;
  /** Redis reconnect backoff. */
  redisRetry?: RedisRetryOptions;
  /** How long a rejected key or a corrupt database blocks further runs before one probe, ms. */
  fatal?: FatalGateOptions;
  /**
   * How often the job schedulers are checked against the config, ms: Redis can lose them without any
   * disconnect (`FLUSHALL`, an eviction policy that evicts queue keys). One read when nothing is missing.
   * @default 30000
   */
  scheduleCheckMs?: number;
  /**
   * Called once when the mirror file is deleted or replaced under the worker (the worker stops itself first).
   * @default log the reason as an error
   */
  onMirrorLost?: (reason: string) => void;
  /** How often the mirror file's identity is checked, ms. @default 5000 */
  mirrorCheckMs?: number;
  /**
   * Backoff while the mirror's database server is unreachable at start (PostgreSQL).
   * @default { minMs: 1000, maxMs: 30000, below: 0.2, above: 0.2 }
   */
  mirrorRetry?: Backoff;
}

export interface RunningWorker {
  queue: SyncQueue;
  worker: Worker<SyncJobData, SyncJobResult>;
  /** What `syncSchedulers` did at start (undefined with `schedulers: false`). */
  schedulers?: SchedulerSyncResult;
  dispatcher?: MirrorDispatcher;
  /** The partitions whose leases this process holds now (`partition:<name>` in Redis), sorted. */
  heldPartitions(): string[];
  /** Graceful stop; idempotent. */
  close(): Promise<void>;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    }),
  ]);
}

/** The `log` sink joins only when an alert rule names it: a line per change is asked for, not the default. */
const LOG_SINK_ONLY_BY_RULE = false;

export async function startWorker(opts: StartWorkerOptions): Promise<RunningWorker> {
  const { config } = opts;
  const baseLogger = opts.logger ?? silentLogger;
  const logger = baseLogger.child({ component: 'worker' });
  // The mirror first: a file that cannot be opened is reported at once, before any wait for Redis.
  const ownMirror = opts.mirror === undefined;
  // SQLite has one writer: a second worker (or a demo) on the file is refused here, in one line.
  const unlockWriter = ownMirror ? lockSqliteWriter(config) : () => {};
  const mirror =
    opts.mirror ?? (await openMirrorPatiently(config, logger, opts).catch(unlockAnd(unlockWriter)));
  const health = new RedisHealth(config.redisUrl, logger);
  const retry = opts.redisRetry ?? {};
  const queueRedis = createRedis(config.redisUrl, { ...retry, health, connectionName: 'retab-mirror-queue' });
  const workerRedis = createRedis(config.redisUrl, {
    ...retry,
    health,
    connectionName: 'retab-mirror-worker',
  });
  const queue = createSyncQueue(queueRedis, config.queuePrefix);
  // RATE_LIMIT_RPS and 429 pauses held in Redis for every worker of this QUEUE_PREFIX (src/fleet/rateLimiter.ts).
  const requestLimiter = (scope: LimiterScope) =>
    createFleetRateLimiter(queueRedis, {
      prefix: config.queuePrefix,
      perSecond: config.rateLimitPerSecond,
      scope,
      logger: baseLogger,
      fallback: processRequestLimiter(config.rateLimitPerSecond, scope),
    });
  const client = opts.client ?? clientFromConfig(config, baseLogger, { requestLimiter });
  let dispatcher: MirrorDispatcher | undefined;
  const release = async () => {
    if (dispatcher) await withTimeout(dispatcher.stop(), 2000);
    await withTimeout(queue.close(), 1000);
    await closeRedis(queueRedis);
    await closeRedis(workerRedis);
    if (ownMirror) await mirror.close();
    unlockWriter();
  };

  let schedulers: SchedulerSyncResult | undefined;
  try {
    if (opts.events !== false) {
      dispatcher = createDispatcher({
        mirror,
        config,
        logger,
        redis: { connection: queueRedis },
        log: LOG_SINK_ONLY_BY_RULE,
        // One delivering lane per sink for the whole fleet (issue #22): lease `lane:<sink>`. SQLite has one
        // worker: no lease, so a restart after a crash delivers at once rather than after the lease's TTL.
        ...(mirror.kind === 'postgres' && {
          leases: (name: string) =>
            tryAcquireLease(queueRedis, name, { prefix: config.queuePrefix, ttlMs: config.leaseTtlMs }),
          leaseRetryMs: Math.max(50, Math.floor(config.leaseTtlMs / 3)),
        }),
      });
    }
    try {
      await waitForReady(queueRedis, opts.signal);
    } catch (err) {
      throw new WorkerStartAborted(
        `worker start cancelled while waiting for Redis: ${describeRedisError(err)}`,
      );
    }
    if (opts.schedulers !== false) schedulers = await syncSchedulers(queue, config, logger);
  } catch (err) {
    await release();
    throw err;
  }
  dispatcher?.start();

  let scheduleCheck: NodeJS.Timeout | undefined;
  if (opts.schedulers !== false) {
    // A Redis that came back empty (no persistence, failover to a fresh replica) lost the schedule: restore it.
    health.onRecovered(() => {
      syncSchedulers(queue, config, logger).catch((err) =>
        logger.warn(
          { err: describeRedisError(err) },
          'could not restore the job schedulers after reconnecting',
        ),
      );
    });
    // Keys can also vanish while the connection stays up (FLUSHALL, eviction): check now and then.
    scheduleCheck = setInterval(() => {
      if (!health.reachable) return; // the reconnect restores them
      syncSchedulers(queue, config, logger)
        .then((r) => {
          if (r.created.length > 0)
            logger.warn(
              { schedulers: r.created },
              'job schedulers were missing from Redis (flushed or evicted?); restored',
            );
        })
        .catch((err) => logger.warn({ err: describeRedisError(err) }, 'could not check the job schedulers'));
    }, opts.scheduleCheckMs ?? 30_000);
    scheduleCheck.unref();
  }

  const shutdown = new AbortController();
  const onPage = (info: PageInfo) => {
    dispatcher?.notify();
    opts.onPage?.(info);
  };
  // Partition leases in Redis, fenced in the mirror: several workers may share it (DESIGN.md §9).
  const leases = redisPartitionLeases(queueRedis, { prefix: config.queuePrefix, ttlMs: config.leaseTtlMs });
  const processor = createProcessor({
    config,
    sync: { client, mirror, logger, onPage, ...(opts.now ? { now: opts.now } : {}) },
    shutdown: shutdown.signal,
    locks: leases,
    gate: new FatalGate(logger, opts.fatal),
    rateLimit: (ms) => queue.rateLimit(ms),
    daySplit: (window) => windowSplit(queue, queueRedis, config.queuePrefix, window),
  });
  // Presence (fleet/presence.ts): this worker and the partitions it runs, for `status`; gone within its TTL
  // if the process dies, which is never longer than its leases'.
  let presence: PublishedPresence | undefined;
  const runs = trackRuns(processor, logger, () => presence?.touch());
  const worker = new Worker<SyncJobData, SyncJobResult>(SYNC_QUEUE, runs.processor, {
    connection: workerRedis,
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    // A dead worker's tasks go back to the queue as soon as its partition leases lapse: BullMQ's job lock
    // lives LEASE_TTL_MS and the stalled check runs as often, so a task is re-run within about twice that.
    lockDuration: config.leaseTtlMs,
    stalledInterval: config.leaseTtlMs,
    // Tasks resume from their checkpoint and their writes are fenced: a window whose workers die under it is
    // run again, not failed after one stall (BullMQ's default), which left its day unswept. Bounded, so a
    // task that kills every worker that runs it ends failed rather than taking the fleet down in turn.
    maxStalledCount: 10,
    // Global across every worker of this queue on this Redis: at most N task starts per second.
    limiter: { max: config.rateLimitPerSecond, duration: 1000 },
    // Reconnected Redis: get back to fetching jobs within seconds, not BullMQ's default 15 s.
    runRetryDelay: 1000,
  });
  logWorkerEvents(worker, logger, health);
  presence = await publishPresence(queueRedis, {
    prefix: config.queuePrefix,
    ttlMs: Math.min(DEFAULT_PRESENCE_TTL_MS, config.leaseTtlMs),
    mirror: mirror.kind,
    concurrency: config.workerConcurrency,
    running: runs.running,
  }).catch((err) => void logger.warn({ err: describeRedisError(err) }, 'could not publish worker presence'));
  logger.info(
    {
      queue: `${config.queuePrefix}:${SYNC_QUEUE}`,
      concurrency: config.workerConcurrency,
      rateLimitPerSecond: config.rateLimitPerSecond,
      mirror: mirror.location,
    },
    'worker started',
  );

  let closing: Promise<void> | undefined;
  let unwatch = () => {};
  const closeTimeoutMs = opts.closeTimeoutMs ?? 8000;
  const close = () => {
    closing ??= (async () => {
      clearInterval(scheduleCheck);
      unwatch();
      shutdown.abort(new Error('worker shutting down'));
      if ((await withTimeout(worker.close(), closeTimeoutMs)) === 'timeout') {
        logger.warn({ closeTimeoutMs }, 'running tasks did not stop in time; closing the worker forcibly');
        await withTimeout(worker.close(true), 1000);
      }
      if (presence) await withTimeout(presence.close(), 1000);
      await release();
      logger.info('worker stopped');
    })();
    return closing;
  };
  opts.signal?.addEventListener('abort', () => void close(), { once: true });
  // A file can be deleted or replaced under an open SQLite handle without an error; a server cannot.
  if (mirror.kind === 'sqlite') {
    unwatch = watchMirrorFile(
      mirror.location,
      (reason) => {
        logger.error(reason);
        void close().then(() => opts.onMirrorLost?.(reason));
      },
      { everyMs: opts.mirrorCheckMs ?? 5000 },
    );
  }
  return {
    queue,
    worker,
    ...(schedulers ? { schedulers } : {}),
    ...(dispatcher ? { dispatcher } : {}),
    heldPartitions: () => leases.held(),
    close,
  };
}
