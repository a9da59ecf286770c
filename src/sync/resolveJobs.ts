/**
 * Fetch the current state of specific known jobs by the cheaper of two paths, and apply it:
 * one `GET /v1/jobs/{id}` each (bounded concurrency), or, when many of them share a creation day, the
 * listing of that whole day (`from_date = to_date = day`), which costs ⌈jobs of the day / page size⌉
 * requests whatever the number of targets. A 404 marks the job missing upstream (the mirror keeps it).
 * Used by the active sweep (jobs that left the in-flight statuses) and by hydrate (missing payloads).
 */
import {
  dayBounds,
  type Job,
  type ListJobsParams,
  MAX_LIMIT_WITH_RESPONSE,
  NotFoundError,
  utcDay,
} from '../retab/index.ts';
import { mapLimit } from './mapLimit.ts';
import type { TaskContext } from './taskRun.ts';
import { joinPages, walkFromTop } from './walkPages.ts';

export interface ResolveTarget {
  id: string;
  /** Unix s. */
  createdAt: number;
}

export interface ResolveOptions {
  includeRequest: boolean;
  includeResponse: boolean;
  /** List page size of a day listing (capped at 20 with responses). */
  pageSize: number;
  /** Minimum targets in one day before a day listing is considered. */
  byDayThreshold: number;
  /** Parallel GETs. */
  concurrency: number;
}

/** Jobs applied per transaction when resolving one by one. */
const GET_BATCH = 50;

function mirroredInDay(ctx: TaskContext, day: string): Promise<number> {
  const { start, end } = dayBounds(day);
  return ctx.deps.mirror.jobs.countCreatedBetween(start, end);
}

const payloadsOf = (opts: ResolveOptions) => ({
  request: opts.includeRequest,
  response: opts.includeResponse,
});

/** Re-list one day; returns the ids it saw. */
async function listDay(ctx: TaskContext, day: string, opts: ResolveOptions): Promise<Set<string>> {
  const seen = new Set<string>();
  const params: ListJobsParams = {
    from_date: day,
    to_date: day,
    order: 'asc',
    limit: opts.includeResponse ? Math.min(opts.pageSize, MAX_LIMIT_WITH_RESPONSE) : opts.pageSize,
    ...(opts.includeRequest ? { include_request: true } : {}),
    ...(opts.includeResponse ? { include_response: true } : {}),
  };
  await walkFromTop(ctx, params, {
    write: async (batch) => {
      const { jobs, rejected, observedAt, pages } = joinPages(batch);
      for (const j of jobs) seen.add(j.id);
      await ctx.apply(jobs, { observedAt, rejected, payloads: payloadsOf(opts) }, pages);
    },
  });
  return seen;
}

/** GET each id; apply them in batches; 404s are marked missing. */
async function getEach(ctx: TaskContext, ids: string[], opts: ResolveOptions): Promise<void> {
  for (let i = 0; i < ids.length && !ctx.aborted(); i += GET_BATCH) {
    const batch = ids.slice(i, i + GET_BATCH);
    const found: Job[] = [];
    const gone: string[] = [];
    let observedAt = Number.POSITIVE_INFINITY;
    await mapLimit(batch, opts.concurrency, async (id) => {
      if (ctx.aborted()) return;
      let sentAt = ctx.now();
      try {
        const job = await ctx.deps.client.retrieveJob(id, {
          ...ctx.request,
          includeRequest: opts.includeRequest,
          includeResponse: opts.includeResponse,
          onSend: () => {
            sentAt = ctx.now();
          },
        });
        found.push(job);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        gone.push(id);
      }
      // The batch is written as one observation dated by its earliest request: never newer than the truth.
      observedAt = Math.min(observedAt, sentAt);
    });
    if (found.length > 0) await ctx.apply(found, { observedAt, payloads: payloadsOf(opts) }, 0);
    if (gone.length > 0) {
      const marked = await ctx.deps.mirror.jobs.markMissing(gone, observedAt);
      ctx.totals.missing += marked;
      ctx.log.info(
        { ids: gone.slice(0, 10), count: gone.length },
        'jobs gone upstream (404); kept, marked missing',
      );
    }
  }
}

/** Resolve `targets` by the cheaper path per creation day (see the file header). */
export async function resolveJobs(
  ctx: TaskContext,
  targets: ResolveTarget[],
  opts: ResolveOptions,
): Promise<void> {
  if (targets.length === 0) return;
  const byDay = new Map<string, string[]>();
  for (const t of targets) {
    const day = utcDay(t.createdAt);
    const list = byDay.get(day);
    if (list) list.push(t.id);
    else byDay.set(day, [t.id]);
  }
  const pageSize = opts.includeResponse ? Math.min(opts.pageSize, MAX_LIMIT_WITH_RESPONSE) : opts.pageSize;
  const oneByOne: string[] = [];
  for (const [day, ids] of byDay) {
    if (ctx.aborted()) return;
    const listingCost = Math.max(1, Math.ceil((await mirroredInDay(ctx, day)) / pageSize));
    if (ids.length < opts.byDayThreshold || listingCost >= ids.length) {
      oneByOne.push(...ids);
      continue;
    }
    ctx.log.debug({ day, targets: ids.length, listingCost }, 'resolving by re-listing the creation day');
    const seen = await listDay(ctx, day, opts);
    // Not in its own day's listing: deleted upstream, most likely; a GET says for sure.
    for (const id of ids) if (!seen.has(id)) oneByOne.push(id);
  }
  await getEach(ctx, oneByOne, opts);
}
