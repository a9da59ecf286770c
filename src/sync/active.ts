/**
 * active: the in-flight jobs. For each non-terminal status, list `status=s` to the end, lightweight: the
 * cost is ⌈in-flight jobs / page size⌉, however big the mirror. Statuses are swept in lifecycle order
 * (validating, queued, in_progress), so a job that moves forward during the sweep is seen in a later
 * listing. A retried job (failed → queued) reappears in the `queued` listing, and the mirror's merge turns
 * it into a `failed → queued` event.
 *
 * Every mirrored job still stored with a swept status but not seen by this sweep has left it (completed,
 * failed, cancelled, expired, or deleted upstream): it is resolved by the cheaper path (resolveJobs.ts).
 * "Seen" is the set of ids of this sweep, not a timestamp comparison, so two sweeps at the same instant
 * (a manual test clock) still resolve correctly.
 */
import { ACTIVE_STATUSES, isKnownStatus } from '../retab/index.ts';
import { partitionKey } from './partitions.ts';
import { resolveJobs } from './resolveJobs.ts';
import { runTask } from './taskRun.ts';
import type { ActiveOptions, RunSummary, SyncDeps } from './types.ts';
import { joinPages, walkFromTop } from './walkPages.ts';

/**
 * At or above this many vanished jobs in one creation day, re-listing the day is considered (and chosen only
 * when its estimated cost, ⌈jobs mirrored that day / page size⌉, is lower). Below it, one GET each costs at
 * most 4 requests and answers definitively (a 404 marks the job missing), while even a small day's listing
 * costs one request and cannot tell a deleted job from a filtered one.
 */
export const DEFAULT_RESOLVE_BY_DAY_THRESHOLD = 5;

/** Sweep the in-flight statuses and resolve the jobs that left them (see the file header). */
export function runActive(deps: SyncDeps, opts: ActiveOptions): Promise<RunSummary> {
  // Known statuses in lifecycle order, then any status upstream added since (listed in ACTIVE_STATUSES).
  const statuses: string[] = [
    ...ACTIVE_STATUSES.filter((s) => opts.statuses.includes(s)),
    ...opts.statuses.filter((s) => !isKnownStatus(s)),
  ];
  if (statuses.length === 0) throw new RangeError('runActive: statuses must name at least one active status');
  const partition = statuses.length === 1 ? partitionKey({ task: 'active', status: statuses[0] }) : 'active';
  return runTask(deps, 'active', partition, async (ctx) => {
    const mirror = deps.mirror;
    const seen = new Set<string>();
    for (const status of statuses) {
      const part = partitionKey({ task: 'active', status });
      const { completed } = await walkFromTop(
        ctx,
        { status, limit: opts.pageSize },
        {
          write: async (batch) => {
            const { jobs, rejected, observedAt, pages } = joinPages(batch);
            for (const j of jobs) seen.add(j.id);
            await ctx.apply(
              jobs,
              {
                observedAt,
                rejected,
                checkpoint: { partition: part, pagesDelta: pages, jobsDelta: jobs.length },
              },
              pages,
            );
          },
        },
      );
      if (!completed) return; // aborted
    }
    // Everything stored with a swept status, minus what this sweep saw (+1: include jobs seen at this instant).
    const vanished = (await mirror.jobs.staleActive({ statuses, notSeenSince: ctx.now() + 1 })).filter(
      (j) => !seen.has(j.id),
    );
    if (vanished.length > 0)
      ctx.log.debug({ vanished: vanished.length }, 'resolving jobs that left the sweep');
    await resolveJobs(ctx, vanished, {
      includeRequest: false,
      includeResponse: false,
      pageSize: opts.pageSize,
      byDayThreshold: opts.resolveByDayThreshold ?? DEFAULT_RESOLVE_BY_DAY_THRESHOLD,
      concurrency: opts.concurrency ?? 4,
    });
    if (ctx.aborted()) return;
    for (const status of statuses) {
      await mirror.syncState.save(
        {
          partition: partitionKey({ task: 'active', status }),
          status: 'done',
          lastError: null,
          lastSuccessAt: ctx.now(),
        },
        ctx.now(),
      );
    }
  });
}
