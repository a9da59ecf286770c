/**
 * window: one UTC day (optionally one source), listed oldest first to the end, its `after` cursor stored in
 * the same transaction as each page. Ascending order is what makes the cursor durable: new jobs never
 * arrive in the past, so within a day the listing only grows at its end and a stored cursor still means
 * "everything before this is done" after a crash, a deploy or a week.
 *
 * A finished window of a closed day is `done` and its rerun is a no-op (reconcile passes `restart`). A window
 * of a day not yet over stays `idle` with its cursor, so a rerun only lists the jobs created since.
 * An `invalid_cursor` (the cursor job was deleted upstream) resumes the walk from its last good position, as
 * often as it keeps making progress (cursorTrail.ts), so a day loses no job to deletions during its walk.
 */

import type { ListJobsParams } from '../retab/index.ts';
import { dayBounds, InvalidCursorError } from '../retab/index.ts';
import { CursorTrail } from './cursorTrail.ts';
import { isDay, partitionKey } from './partitions.ts';
import { describeError, runTask, type TaskContext } from './taskRun.ts';
import type { RunSummary, SyncDeps, WindowOptions } from './types.ts';
import { joinPages, walkPages } from './walkPages.ts';

/** Pages per transaction of a window walk unless the caller says otherwise (see WindowOptions.batchPages). */
export const WINDOW_BATCH_PAGES = 5;

async function walkWindow(ctx: TaskContext, opts: WindowOptions, partition: string, trail: CursorTrail) {
  const params: ListJobsParams = {
    from_date: opts.day,
    to_date: opts.day,
    order: 'asc',
    limit: opts.pageSize,
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.payloadMode === 'none' ? {} : { include_request: true }),
  };
  const start = trail.current;
  return walkPages(ctx, params, start ? { startAfter: start } : {}, {
    batchPages: opts.batchPages ?? WINDOW_BATCH_PAGES,
    write: async (batch) => {
      const { jobs, rejected, lastId, observedAt, pages } = joinPages(batch);
      const cursor = lastId ?? trail.current ?? null;
      await ctx.apply(
        jobs,
        {
          observedAt,
          rejected,
          payloads: { request: params.include_request === true },
          ...(opts.backfill ? { backfill: true } : {}),
          checkpoint: { partition, cursor, status: 'running', pagesDelta: pages, jobsDelta: jobs.length },
        },
        pages,
      );
      trail.advance(lastId);
    },
  });
}

async function sweepWindow(ctx: TaskContext, opts: WindowOptions, partition: string): Promise<void> {
  const mirror = ctx.deps.mirror;
  const state = await mirror.syncState.get(partition);
  if (state?.status === 'done' && !opts.restart) {
    ctx.log.debug('window already done; nothing to do (pass restart to sweep it again)');
    return;
  }
  const trail = new CursorTrail(opts.restart ? undefined : (state?.cursor ?? undefined));
  await mirror.syncState.save(
    { partition, status: 'running', ...(opts.restart ? { cursor: null } : {}) },
    ctx.now(),
  );
  for (;;) {
    try {
      const { completed } = await walkWindow(ctx, opts, partition, trail);
      if (!completed) return; // aborted: the last committed page's cursor stays
      break;
    } catch (err) {
      const back = err instanceof InvalidCursorError && !ctx.aborted() ? trail.fallback() : undefined;
      if (back) {
        ctx.log.warn(
          { err, resumeAfter: back.from ?? null, restarts: trail.restartCount },
          'cursor rejected upstream (its job was deleted?); resuming from the last good position',
        );
        await mirror.syncState.save({ partition, cursor: back.from ?? null }, ctx.now());
        continue;
      }
      if (!ctx.aborted())
        await mirror.syncState.save({ partition, status: 'failed', lastError: describeError(err) });
      throw err;
    }
  }
  // Closed by upstream's clock: until upstream's midnight passes, it can still create jobs on that day.
  const closed = dayBounds(opts.day).end * 1000 <= ctx.upstreamNow();
  await mirror.syncState.save(
    {
      partition,
      status: closed ? 'done' : 'idle',
      // A closed day needs no cursor (a restart starts over); an open one keeps it for the next increment.
      ...(closed ? { cursor: null } : {}),
      lastError: null,
      lastSuccessAt: ctx.now(),
    },
    ctx.now(),
  );
}

/** Sweep one date window (see the file header). */
export function runWindow(deps: SyncDeps, opts: WindowOptions): Promise<RunSummary> {
  if (!isDay(opts.day)) throw new RangeError(`runWindow: invalid day "${opts.day}", expected YYYY-MM-DD`);
  const partition = partitionKey({
    task: 'window',
    day: opts.day,
    ...(opts.source ? { source: opts.source } : {}),
  });
  return runTask(deps, 'window', partition, (ctx) => sweepWindow(ctx, opts, partition));
}
