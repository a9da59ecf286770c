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
 *
 * A dense closed day can be swept by two workers at once, one walk from each end (`from: 'end'` is the walk
 * from the end, partition `window:<day>:desc`), when the runner passes a `DaySplit` (daySplit.ts): the walks
 * claim their batches before writing them and stop where they meet.
 */

import type { ListJobsParams } from '../retab/index.ts';
import { dayBounds, InvalidCursorError } from '../retab/index.ts';
import { CursorTrail } from './cursorTrail.ts';
import { claimBatch, type DaySplit, owns, positionOf, type WalkSide } from './daySplit.ts';
import { isDay, partitionKey } from './partitions.ts';
import { describeError, runTask, type TaskContext } from './taskRun.ts';
import type { RunSummary, SyncDeps, WindowOptions } from './types.ts';
import { joinPages, walkPages } from './walkPages.ts';

/** Pages per transaction of a window walk unless the caller says otherwise (see WindowOptions.batchPages). */
export const WINDOW_BATCH_PAGES = 5;

/** How one sweep of a window is walked: which end it starts from, and the split it shares (if any). */
interface WalkPlan {
  side: WalkSide;
  /** Given by the runner; used only for a closed day (decided at the first write). */
  split?: DaySplit;
  /** The sweep resumed a checkpoint: an earlier run may have queued the tail, so every batch is claimed. */
  resumed: boolean;
  /** Whether the day is split (undefined until the first write, when upstream's clock is known). */
  active?: DaySplit | null;
  tailQueued: boolean;
}

async function walkWindow(
  ctx: TaskContext,
  opts: WindowOptions,
  partition: string,
  trail: CursorTrail,
  plan: WalkPlan,
): Promise<{ completed: boolean }> {
  const params: ListJobsParams = {
    from_date: opts.day,
    to_date: opts.day,
    order: plan.side,
    limit: opts.pageSize,
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.payloadMode === 'none' ? {} : { include_request: true }),
  };
  const start = trail.current;
  let crossed = false; // the walk reached the other walker's claim: this write is its last
  let met = false; // a page claimed on arrival lies past the meeting point: request no more
  const result = await walkPages(ctx, params, start ? { startAfter: start } : {}, {
    batchPages: opts.batchPages ?? WINDOW_BATCH_PAGES,
    // Claim each page as it arrives, without holding up the next request: a walk learns of the meeting point
    // while it fetches the page after, and stops there instead of a batch past it. Exactly once rests on the
    // write's own claim of its batch (the same claim again, or the meeting), awaited before the transaction.
    more: (page) => {
      const split = plan.active;
      const last = page.data[page.data.length - 1];
      if (split && last && !met && (plan.side === 'desc' || plan.resumed || plan.tailQueued)) {
        const position = positionOf(last);
        split.claim(plan.side, position).then(
          (meeting) => {
            if (meeting && !owns(plan.side, position, meeting)) met = true;
          },
          () => {}, // the write's claim reports it
        );
      }
      return !crossed && !met;
    },
    write: async (batch) => {
      if (crossed) return; // pages fetched ahead, past the meeting point: the other walk's
      const joined = joinPages(batch);
      const { rejected, lastId, observedAt, pages } = joined;
      let jobs = joined.jobs;
      if (plan.active === undefined) {
        // Only a closed day is split (an open one still grows at its end); the walk from the end exists only
        // for a day found closed.
        const closed = dayBounds(opts.day).end * 1000 <= ctx.upstreamNow();
        plan.active = plan.split && (closed || plan.side === 'desc') ? plan.split : null;
      }
      // Dense: the batch still ends with more pages. A sparse day (one batch) is never claimed nor split.
      const more = batch[batch.length - 1]?.page.has_more === true;
      const split = plan.active;
      if (split && (plan.side === 'desc' || plan.resumed || plan.tailQueued || more)) {
        const claimed = await claimBatch(split, plan.side, jobs);
        jobs = claimed.jobs;
        crossed = claimed.crossed;
      }
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
      // The claim above already covers this batch: the tail starts past it.
      if (split && plan.side === 'asc' && more && !crossed && !plan.tailQueued) {
        plan.tailQueued = true;
        await split.queueTail();
        ctx.log.debug('dense day: queued the walk from its end');
      }
    },
  });
  return { completed: result.completed || crossed };
}

async function sweepWindow(
  ctx: TaskContext,
  opts: WindowOptions,
  partition: string,
  split: DaySplit | undefined,
): Promise<void> {
  const mirror = ctx.deps.mirror;
  const state = await mirror.syncState.get(partition);
  if (state?.status === 'done' && !opts.restart) {
    ctx.log.debug('window already done; nothing to do (pass restart to sweep it again)');
    return;
  }
  const side: WalkSide = opts.from === 'end' ? 'desc' : 'asc';
  if (side === 'desc' && state === undefined) {
    // Queued by the walk from the start, which may have finished the day alone before this walk ever started
    // (a busy fleet). Only then: a walk from the end that ran before may own claimed positions it has not
    // written yet (killed between its claim and its write), which the walk from the start stopped short of.
    const head = await mirror.syncState.get(windowPartition(opts, 'asc'));
    if (head?.status === 'done') {
      await mirror.syncState.save(
        { partition, status: 'done', cursor: null, lastError: null, lastSuccessAt: ctx.now() },
        ctx.now(),
      );
      return;
    }
  }
  const plan: WalkPlan = {
    side,
    resumed: !opts.restart && (state?.cursor ?? null) !== null,
    tailQueued: false,
    ...(split ? { split } : {}),
  };
  const trail = new CursorTrail(opts.restart ? undefined : (state?.cursor ?? undefined));
  await mirror.syncState.save(
    { partition, status: 'running', ...(opts.restart ? { cursor: null } : {}) },
    ctx.now(),
  );
  for (;;) {
    try {
      const { completed } = await walkWindow(ctx, opts, partition, trail, plan);
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

function windowPartition(opts: Pick<WindowOptions, 'day' | 'source'>, side: WalkSide): string {
  return partitionKey({
    task: 'window',
    day: opts.day,
    ...(opts.source ? { source: opts.source } : {}),
    ...(side === 'desc' ? { from: 'end' as const } : {}),
  });
}

/**
 * Sweep one date window (see the file header). With `split`, a dense closed day is shared with a walk from
 * its end (daySplit.ts); without it (the in-process pass, reconcile) the window is one walk, as before.
 */
export function runWindow(deps: SyncDeps, opts: WindowOptions, split?: DaySplit): Promise<RunSummary> {
  if (!isDay(opts.day)) throw new RangeError(`runWindow: invalid day "${opts.day}", expected YYYY-MM-DD`);
  if (opts.from === 'end' && !split)
    throw new RangeError('runWindow: a walk from the end of a day needs the split it shares (DaySplit)');
  const partition = windowPartition(opts, opts.from === 'end' ? 'desc' : 'asc');
  return runTask(deps, 'window', partition, (ctx) => sweepWindow(ctx, opts, partition, split));
}
