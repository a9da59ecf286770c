/**
 * What a worker says about its runs, and which runs it has going. A run is listed (for presence) and its
 * failure logged around the processor call itself, not on BullMQ's events: a job whose lock lapsed while the
 * worker was paused past LEASE_TTL_MS ends with no 'completed' or 'failed' event, only "could not renew lock".
 */
import type { Processor, Worker } from 'bullmq';
import type { Logger } from '../log.ts';
import { partitionOf, type SyncJobData, SyncJobDataSchema } from './jobData.ts';
import type { SkippedRun, SyncJobResult } from './processor.ts';
import type { RedisHealth } from './redis.ts';

/** A job this worker no longer holds: its lock lapsed and another worker runs it, or Redis lost it. */
const LOST_JOB = /Missing (key|lock) for job|Lock mismatch|could not renew lock/i;

type SyncProcessor = Processor<SyncJobData, SyncJobResult>;

export interface TrackedRuns {
  /** The processor to give BullMQ: `processor`, with each run listed while it runs and its failure logged. */
  processor: SyncProcessor;
  /** The partitions of the runs going now. */
  running(): string[];
}

/** Wrap `processor`; `onChange` is called when a run starts or ends (presence refreshes then). */
export function trackRuns(processor: SyncProcessor, logger: Logger, onChange: () => void): TrackedRuns {
  const running = new Map<number, string>();
  let runs = 0;
  return {
    running: () => [...running.values()],
    processor: async (job, token, signal) => {
      const key = ++runs;
      running.set(key, partitionOfJob(job.data, job.name));
      onChange();
      try {
        return await processor(job, token, signal);
      } catch (err) {
        reportFailure(logger, job, err as Error);
        throw err;
      } finally {
        running.delete(key);
        onChange();
      }
    },
  };
}

/**
 * One line per failed run. Control flow (requeue, queue-wide rate limit) is not a failure; an unrecoverable
 * one is logged by the processor; a job taken over elsewhere is the lost lease's business (already said).
 */
function reportFailure(
  logger: Logger,
  job: {
    id?: string | undefined;
    name: string;
    data: unknown;
    attemptsMade: number;
    opts: { attempts?: number };
  },
  err: Error,
): void {
  if (['UnrecoverableError', 'DelayedError', 'RateLimitError'].includes(err.name)) return;
  if (LOST_JOB.test(err.message)) {
    logger.debug({ jobId: job.id, err: err.message }, 'job taken over elsewhere or lost with Redis data');
    return;
  }
  const max = job.opts.attempts ?? 1;
  const attempt = job.attemptsMade + 1;
  const partition = partitionOfJob(job.data, job.name);
  const ctx = { jobId: job.id, partition, attempt, attempts: max };
  if (attempt < max) logger.warn(ctx, `${partition} failed, will retry: ${err.message}`);
  else logger.error(ctx, `${partition} failed after ${max} attempts: ${err.message}`);
}

/** The worker's own lines from BullMQ's events: errors worth a warning, tasks failed for stalling, each run. */
export function logWorkerEvents(
  worker: Worker<SyncJobData, SyncJobResult>,
  logger: Logger,
  health: Pick<RedisHealth, 'reachable'>,
): void {
  worker.on('error', (err) => {
    // Connection errors are reported by the health monitor. A job whose keys vanished (Redis restarted
    // without persistence) cannot be marked done; its run is in sync_runs and the schedule is restored.
    if (!health.reachable || /ECONNREFUSED|ECONNRESET|EPIPE|Connection is closed/i.test(err.message)) return;
    if (LOST_JOB.test(err.message))
      logger.debug({ err: err.message }, 'job taken over elsewhere or lost with Redis data');
    else logger.warn({ err: err.message }, 'worker error');
  });
  // A task whose workers kept dying under it (maxStalledCount): BullMQ fails it without running it again.
  worker.on('failed', (job, err) => {
    if (!job || !/stalled more than/.test(err.message)) return;
    const partition = partitionOfJob(job.data, job.name);
    logger.error(
      { jobId: job.id, partition },
      `${partition} failed: ${err.message} (the workers running it died)`,
    );
  });
  // The default output of a running worker: one line per run. Each change is logged only when an alert rule
  // routes it to the `log` sink.
  worker.on('completed', (job, result) => {
    if (result.outcome === 'skipped') logger.debug({ jobId: job.id, ...result }, 'sync job skipped');
    else logger.info({ jobId: job.id, ...result }, runLine(result));
  });
}

/** `head: 120 jobs (3 new, 5 changed), 12 events, 2 requests, 0.4 s`. */
export function runLine(r: Exclude<SyncJobResult, SkippedRun>): string {
  const changes = [
    r.inserted && `${r.inserted} new`,
    r.updated && `${r.updated} changed`,
    r.missing && `${r.missing} missing`,
  ]
    .filter(Boolean)
    .join(', ');
  return `${r.partition} ${r.outcome === 'success' ? '' : `${r.outcome}: `}${r.jobs} jobs${changes ? ` (${changes})` : ''}, ${r.events} events, ${r.requests} requests, ${(r.durationMs / 1000).toFixed(1)} s`;
}

function partitionOfJob(data: unknown, name: string): string {
  const parsed = SyncJobDataSchema.safeParse(data);
  return parsed.success ? partitionOf(parsed.data) : name;
}
