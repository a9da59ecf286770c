/**
 * hydrate: jobs the mirror knows without their request (first seen by a lightweight listing: the active
 * sweep, or a `none` payload mode earlier) get it fetched once; requests never change upstream. Mode `full`
 * also fetches the responses of completed jobs. Each job goes through applyPage like any observation, so the
 * columns derived from the request (source, project, model, files) are filled in the same transaction.
 * The path per creation day is the cheaper of one GET each and a day listing with the payload included
 * (resolveJobs.ts); with responses the listing pages hold at most 20 jobs, and the estimate accounts for it.
 */
import { DEFAULT_RESOLVE_BY_DAY_THRESHOLD } from './active.ts';
import { partitionKey } from './partitions.ts';
import { type ResolveTarget, resolveJobs } from './resolveJobs.ts';
import { runTask, type TaskContext } from './taskRun.ts';
import type { HydrateOptions, RunSummary, SyncDeps } from './types.ts';

export const HYDRATE_DEFAULTS = { limit: 5000, concurrency: 4, pageSize: 100 } as const;

function targetsOf(ctx: TaskContext, ids: string[]): Promise<ResolveTarget[]> {
  return ctx.deps.mirror.jobs.createdAtOf(ids);
}

/** Fetch missing payloads (see the file header). A `none` payload mode is a successful no-op. */
export function runHydrate(deps: SyncDeps, opts: HydrateOptions): Promise<RunSummary> {
  const partition = partitionKey({ task: 'hydrate' });
  return runTask(deps, 'hydrate', partition, async (ctx) => {
    if (opts.payloadMode === 'none') return;
    const limit = opts.limit ?? HYDRATE_DEFAULTS.limit;
    const common = {
      pageSize: opts.pageSize ?? HYDRATE_DEFAULTS.pageSize,
      byDayThreshold: opts.resolveByDayThreshold ?? DEFAULT_RESOLVE_BY_DAY_THRESHOLD,
      concurrency: opts.concurrency ?? HYDRATE_DEFAULTS.concurrency,
    };
    // Responses first: those fetches carry the request too, so the request pass then has less to do.
    if (opts.payloadMode === 'full') {
      const responses = await targetsOf(
        ctx,
        await deps.mirror.jobs.missingPayload({ kind: 'response', limit }),
      );
      await resolveJobs(ctx, responses, { ...common, includeRequest: true, includeResponse: true });
    }
    if (ctx.aborted()) return;
    const requests = await targetsOf(ctx, await deps.mirror.jobs.missingPayload({ kind: 'request', limit }));
    await resolveJobs(ctx, requests, { ...common, includeRequest: true, includeResponse: false });
    if (ctx.aborted()) return;
    await deps.mirror.syncState.save(
      { partition, status: 'done', lastError: null, lastSuccessAt: ctx.now(), jobsDelta: ctx.totals.jobs },
      ctx.now(),
    );
  });
}
