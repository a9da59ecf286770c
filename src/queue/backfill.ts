/**
 * Backfill as queued work: one window job per UTC day (per source when only some are mirrored), with the
 * partition key as job id, so enqueuing the same range twice adds nothing while the first jobs are kept.
 * Workers run them in parallel, each resuming from its checkpoint.
 */
import type { JobSource } from '../retab/index.ts';
import { backfillDays, planWindows } from '../sync/index.ts';
import { jobIdOf, partitionOf, type SyncJobData } from './jobData.ts';
import type { SyncQueue } from './syncQueue.ts';

/**
 * Window jobs are kept for a month once done, so re-running the same backfill is a no-op rather than a
 * second sweep; the count cap keeps Redis bounded for very long ranges.
 */
export const WINDOW_JOB_OPTS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 30 * 86_400, count: 20_000 },
  removeOnFail: { age: 30 * 86_400, count: 20_000 },
} as const;

export interface EnqueueBackfillOptions {
  /** First UTC day, `YYYY-MM-DD`, inclusive. */
  from: string;
  /** Last UTC day, `YYYY-MM-DD`, inclusive. */
  to: string;
  /** One window per (day, source); one per day covering every source when omitted or all (`windowSources`). */
  sources?: JobSource[];
}

export interface EnqueueBackfillResult {
  /** Job ids newly queued. */
  added: string[];
  /** Job ids already queued, running or done (left alone). */
  existing: string[];
  /** Failed window jobs queued again. */
  retried: string[];
}

export async function enqueueBackfill(
  queue: SyncQueue,
  opts: EnqueueBackfillOptions,
): Promise<EnqueueBackfillResult> {
  const days = backfillDays(opts.from, opts.to);
  const result: EnqueueBackfillResult = { added: [], existing: [], retried: [] };
  const toAdd: { name: string; data: SyncJobData; opts: typeof WINDOW_JOB_OPTS & { jobId: string } }[] = [];
  for (const window of planWindows(opts.sources, days, { backfill: true })) {
    const data: SyncJobData = { task: 'window', ...window };
    const jobId = jobIdOf(partitionOf(data));
    const job = await queue.getJob(jobId);
    // A dense day's walk from its end (src/sync/daySplit.ts) owns the positions it claimed: one that gave up
    // is retried too, else those jobs would wait for the next reconcile.
    const tail = await queue.getJob(jobIdOf(partitionOf({ ...data, from: 'end' })));
    if (tail && (await tail.getState()) === 'failed') {
      await tail.retry('failed');
      result.retried.push(tail.id as string);
    }
    if (job) {
      // A window that gave up (e.g. upstream down for too long) is what a second backfill is for.
      if ((await job.getState()) === 'failed') {
        await job.retry('failed');
        result.retried.push(jobId);
      } else {
        result.existing.push(jobId);
      }
      continue;
    }
    toAdd.push({ name: 'window', data, opts: { ...WINDOW_JOB_OPTS, jobId } });
  }
  // The job id makes this idempotent even against a concurrent `backfill` of the same range.
  for (let i = 0; i < toAdd.length; i += 500) await queue.addBulk(toAdd.slice(i, i + 500));
  result.added = toAdd.map((j) => j.opts.jobId);
  return result;
}
