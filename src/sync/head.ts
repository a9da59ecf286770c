/**
 * head: new jobs. Lists newest first (with requests unless payload mode is `none`) and stops as soon as it
 * reaches jobs it already has, so a steady-state run costs one or two requests.
 *
 * - Watermark W: the newest `created_at` known complete (the partition's stored watermark, or the newest
 *   mirrored job). The walk stops on the first page whose items older than W − overlap are all known (the
 *   overlap re-reads jobs that became visible late). An unknown item down there means a gap (an interrupted
 *   walk, a job listed late): the walk goes on until it finds known ground again.
 * - History floor: never below now − backfillDays (nor W − overlap, if that is older). With no watermark the
 *   first run is therefore a backfill of `backfillDays`; `backfillDays: 0` mirrors only jobs created from the
 *   first run on (the first run stores W = now and lists a single page).
 * - Every boundary is upstream time: W is the newest `created_at` seen, and "now" is upstream's clock (the
 *   answers' `Date` header, `ctx.upstreamNow()`), never the machine's alone. A machine ahead of upstream
 *   would otherwise store a W that upstream's new jobs are older than, and head would never list them.
 * - Resume: every page checkpoints the walk's `after` cursor (status `running`) and W only advances when a
 *   walk completes. A run that finds a pending cursor first catches up from the top (without overwriting the
 *   cursor), then continues the interrupted walk from its cursor down to its own target. A cursor rejected
 *   upstream (its job was deleted) resumes the segment from its last good position, as often as the walk
 *   keeps making progress (cursorTrail.ts); its watermark still bounds the walk.
 */
import type { JobPage } from '../retab/index.ts';
import { InvalidCursorError, type JobSource, SOURCES } from '../retab/index.ts';
import { CursorTrail } from './cursorTrail.ts';
import { partitionKey } from './partitions.ts';
import { describeError, runTask, type TaskContext } from './taskRun.ts';
import type { HeadOptions, RunSummary, SyncDeps } from './types.ts';
import { type FetchedPage, joinPages, walkPages } from './walkPages.ts';
import { WINDOW_BATCH_PAGES } from './window.ts';

const DAY_S = 86_400;

/** The newest mirrored `created_at` (of one source when given): the watermark when none is stored. */
function newestMirrored(ctx: TaskContext, source: JobSource | undefined): Promise<number | null> {
  return ctx.deps.mirror.jobs.latestCreatedAt(source);
}

interface Segment {
  /** Where the walk is: resume after its current cursor (from the top when none); each page advances it. */
  trail: CursorTrail;
  /** Watermark the segment walks down to; null = no watermark (walk to the history floor). */
  watermark: number | null;
  /** Store the walk's cursor after each page (false while a pending cursor must be kept). */
  checkpointCursor: boolean;
}

function max(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

async function walkSegment(
  ctx: TaskContext,
  opts: HeadOptions,
  partition: string,
  source: JobSource | undefined,
  seg: Segment,
  horizon: () => number,
): Promise<{ completed: boolean; top: number | null }> {
  const overlap = opts.overlapSeconds;
  const W = seg.watermark;
  // Fixed once the first answer has told upstream's time (both users below run after a page arrived).
  let floorS: number | undefined;
  const floorOf = () => (floorS ??= W === null ? horizon() : Math.min(W - overlap, horizon()));
  let top: number | null = null;

  const more = async (page: JobPage): Promise<boolean> => {
    const jobs = page.data;
    const oldest = jobs[jobs.length - 1];
    if (!oldest) return true; // only rejected items: keep walking
    const floor = floorOf();
    if (oldest.created_at < floor) return false;
    if (W === null) return true;
    const below = jobs.filter((j) => j.created_at < W - overlap);
    if (below.length === 0) return true;
    const known = await ctx.deps.mirror.jobs.knownIds(below.map((j) => j.id));
    return !below.every((j) => known.has(j.id));
  };

  const write = async (batch: FetchedPage[]) => {
    const { jobs: all, rejected, lastId, observedAt, pages } = joinPages(batch);
    const floor = floorOf();
    const jobs = all.filter((j) => j.created_at >= floor);
    for (const j of jobs) top = max(top, j.created_at);
    const cursor = seg.checkpointCursor && lastId !== null ? { cursor: lastId } : {};
    const advance = () => seg.trail.advance(lastId);
    await ctx.apply(
      jobs,
      {
        observedAt,
        rejected,
        payloads: { request: opts.payloadMode !== 'none' },
        checkpoint: {
          partition,
          ...cursor,
          ...(seg.checkpointCursor ? { status: 'running' as const } : {}),
          ...(seg.checkpointCursor && W !== null ? { watermark: W } : {}),
          pagesDelta: pages,
          jobsDelta: jobs.length,
        },
      },
      pages,
    );
    advance();
  };

  const params = {
    order: 'desc' as const,
    limit: opts.pageSize,
    ...(opts.payloadMode === 'none' ? {} : { include_request: true }),
    ...(source ? { source } : {}),
  };
  const from = seg.trail.current;
  const start = from ? { startAfter: from } : {};
  // A first run (no watermark) is a backfill: batch its commits like a window's.
  const batchPages = W === null ? WINDOW_BATCH_PAGES : 1;
  const { completed } = await walkPages(ctx, params, start, { more, write, batchPages });
  // Stopping on known ground is a completed walk; only an abort leaves it unfinished.
  return { completed: completed || !ctx.aborted(), top };
}

async function headOfSource(ctx: TaskContext, opts: HeadOptions, source: JobSource | undefined) {
  const mirror = ctx.deps.mirror;
  const partition = partitionKey({ task: 'head', ...(source ? { source } : {}) });
  const state = await mirror.syncState.get(partition);
  // Upstream's "now" minus the history asked for, read when needed (after an answer has told upstream's time).
  // Fixed at the first call, right after the run's first answer: an empty listing covers upstream's time when
  // it was read, not the end of the run (jobs created meanwhile are not in it).
  let horizonS: number | undefined;
  const horizon = () => (horizonS ??= Math.floor(ctx.upstreamNow() / 1000) - opts.backfillDays * DAY_S);
  const newest = await newestMirrored(ctx, source);
  const pending = state?.status === 'running' && state.cursor ? state.cursor : null;

  const segments: Segment[] = pending
    ? [
        { trail: new CursorTrail(undefined), watermark: newest, checkpointCursor: false },
        { trail: new CursorTrail(pending), watermark: state?.watermark ?? null, checkpointCursor: true },
      ]
    : [
        {
          trail: new CursorTrail(undefined),
          watermark: max(state?.watermark ?? null, newest),
          checkpointCursor: true,
        },
      ];
  if (pending) ctx.log.info({ cursor: pending }, 'resuming an interrupted head walk after catching up');

  let top: number | null = null;
  for (const seg of segments) {
    for (;;) {
      try {
        const r = await walkSegment(ctx, opts, partition, source, seg, horizon);
        top = max(top, r.top);
        if (!r.completed) return; // aborted: the cursor of the last committed page stays
        break;
      } catch (err) {
        // The cursor's job was deleted upstream (retention): without this, a stored cursor would fail every
        // later run. Resume from the last good position (the trail decides whether that is still progress).
        const back = err instanceof InvalidCursorError && !ctx.aborted() ? seg.trail.fallback() : undefined;
        if (back) {
          ctx.log.warn(
            { err, resumeAfter: back.from ?? null, restarts: seg.trail.restartCount },
            'cursor rejected upstream (its job was deleted?); resuming from the last good position',
          );
          continue;
        }
        if (!ctx.aborted()) await mirror.syncState.save({ partition, lastError: describeError(err) });
        throw err;
      }
    }
  }
  // Nothing listed at all (an empty account, or backfillDays 0): everything from the horizon on is covered.
  const watermark = max(top, segments[0]?.watermark ?? null) ?? horizon();
  await mirror.syncState.save({
    partition,
    cursor: null,
    watermark,
    status: 'done',
    lastError: null,
    lastSuccessAt: ctx.now(),
  });
}

/** Mirror new jobs (see the file header). One walk per source when `sources` is a strict subset. */
export function runHead(deps: SyncDeps, opts: HeadOptions): Promise<RunSummary> {
  const subset =
    opts.sources && new Set(opts.sources).size < SOURCES.length ? [...new Set(opts.sources)] : null;
  return runTask(deps, 'head', 'head', async (ctx) => {
    for (const source of subset ?? [undefined]) {
      if (ctx.aborted()) return;
      await headOfSource(ctx, opts, source);
    }
  });
}
