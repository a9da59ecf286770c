/**
 * The pager loop, fetching ahead of the writes. A producer walks the cursor (`iterPages`) into a small
 * queue while the consumer writes (SQLite transactions are synchronous), so a long walk costs about
 * max(fetch, write) rather than fetch + write.
 *
 * Each write takes every page waiting in the queue, in one transaction (whole pages only, with the
 * checkpoint of the last): a page is never split, and rows, events and checkpoint still commit together.
 * Long walks (backfill windows) ask for `batchPages` per transaction: a commit costs about as much as the
 * inserts it flushes (each page dirties index pages all over the B-trees), and consecutive pages share many
 * of them. A crash then re-fetches at most one batch; an abort writes what was received.
 *
 * The next page is only requested once `more` has accepted the current one, so a walk that stops early
 * (head) never pays for a page it throws away. On abort no new request starts; pages already received are
 * written, and a request in flight gets a short grace to arrive (it is paid for, and the rerun then starts
 * after it) before it is cancelled.
 */
import type { IterPagesOptions, Job, JobPage, ListJobsParams, RejectedItem } from '../retab/index.ts';
import { InvalidCursorError } from '../retab/index.ts';
import { CursorTrail } from './cursorTrail.ts';
import type { TaskContext } from './taskRun.ts';

/** How long an abort waits for a page already in flight before cancelling it, ms. */
export const ABORT_GRACE_MS = 1000;
/** Pages fetched ahead of the writes at most, beyond one batch (bounds memory: a few thousand jobs). */
export const MAX_AHEAD = 2;

export interface FetchedPage {
  page: JobPage;
  /**
   * Unix ms (the injected clock) the page's request was sent: the earliest moment upstream could have read
   * the state it answers with. Not its arrival: a response read late would otherwise claim to be newer than
   * a quicker observation another task committed meanwhile (see mergeObservation.ts).
   */
  observedAt: number;
}

export interface WalkHandlers {
  /**
   * Decide, before the next page is requested, whether the walk goes on past this one. Only asked when
   * upstream has more. @default () => true
   */
  more?: (page: JobPage) => boolean | Promise<boolean>;
  /** Write one or more consecutive pages, in one transaction. */
  write: (pages: FetchedPage[]) => void | Promise<void>;
  /**
   * Pages per transaction: the consumer waits for this many (or the end of the walk, or an abort) before it
   * writes. 1 writes every page as soon as it arrives (plus any that queued up meanwhile). @default 1
   */
  batchPages?: number;
}

/** Consecutive pages as one write: their jobs and rejected items, the last cursor, the earliest fetch time. */
export function joinPages(batch: FetchedPage[]): {
  jobs: Job[];
  rejected: RejectedItem[];
  lastId: string | null;
  observedAt: number;
  pages: number;
} {
  const first = batch[0];
  if (batch.length === 1 && first) {
    return {
      jobs: first.page.data,
      rejected: first.page.rejected,
      lastId: first.page.last_id,
      observedAt: first.observedAt,
      pages: 1,
    };
  }
  let lastId: string | null = null;
  for (const b of batch) lastId = b.page.last_id ?? lastId;
  return {
    jobs: batch.flatMap((b) => b.page.data),
    rejected: batch.flatMap((b) => b.page.rejected),
    lastId,
    // Dated by the earliest page: an observation is never claimed newer than it is.
    observedAt: Math.min(...batch.map((b) => b.observedAt)),
    pages: batch.length,
  };
}

export interface WalkResult {
  /** True when the listing was walked to its end; false when `more` stopped it or it was aborted. */
  completed: boolean;
}

export async function walkPages(
  ctx: TaskContext,
  params: ListJobsParams,
  start: Pick<IterPagesOptions, 'startAfter' | 'startBefore'>,
  handlers: WalkHandlers,
): Promise<WalkResult> {
  if (ctx.aborted()) return { completed: false };
  // Our own controller: an abort cancels the in-flight request only after the grace; a write error cancels
  // it at once.
  const inner = new AbortController();
  const outer = ctx.deps.signal;
  let grace: NodeJS.Timeout | undefined;
  const onOuterAbort = () => {
    grace = setTimeout(() => inner.abort(outer?.reason), ABORT_GRACE_MS);
    grace.unref();
  };
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const onAttempt = ctx.request.onAttempt;
  // The walk has one request in flight at a time: the last send before a page arrives is that page's.
  let sentAt = ctx.now();
  const pages = ctx.deps.client.iterPages(params, {
    ...start,
    signal: inner.signal,
    ...(onAttempt ? { onAttempt } : {}),
    onSend: () => {
      sentAt = ctx.now();
    },
  });

  const batchPages = Math.max(1, handlers.batchPages ?? 1);
  const ahead = batchPages + MAX_AHEAD;
  const queue: FetchedPage[] = [];
  let done = false; // the producer will add nothing more
  let completed = false; // it reached the end of the listing
  let failure: { error: unknown } | undefined;
  let stopping = false; // the consumer gave up (write error): the producer must stop
  let wake: (() => void) | undefined; // consumer waiting for a page
  let space: (() => void) | undefined; // producer waiting for room in the queue
  const notify = () => {
    wake?.();
    wake = undefined;
  };

  const produce = async () => {
    try {
      for (;;) {
        const r = await pages.next();
        if (r.done) {
          completed = true;
          return;
        }
        const page = r.value;
        queue.push({ page, observedAt: sentAt });
        notify();
        if (!page.has_more) {
          completed = true;
          return;
        }
        if (stopping || ctx.aborted() || !(await (handlers.more?.(page) ?? true))) return;
        while (queue.length >= ahead && !stopping) await new Promise<void>((resolve) => (space = resolve));
        if (stopping || ctx.aborted()) return;
      }
    } catch (error) {
      if (!ctx.aborted() && !stopping) failure = { error };
    } finally {
      done = true;
      notify();
    }
  };
  const producer = produce();

  try {
    for (;;) {
      // Wait for a full batch; after an abort or at the end, for anything at all.
      while (!done && (queue.length === 0 || (queue.length < batchPages && !ctx.aborted()))) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (queue.length === 0) break;
      const batch = queue.splice(0);
      space?.();
      space = undefined;
      await handlers.write(batch);
    }
    if (failure) throw failure.error;
    return { completed };
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
    clearTimeout(grace);
    if (!done) {
      stopping = true;
      space?.();
      inner.abort();
    }
    await producer;
    await pages.return(undefined).catch(() => {});
  }
}

/**
 * `walkPages` from the top of a listing for the walks that keep no checkpoint (the active sweep's status
 * listings, the re-listing of a day): when upstream rejects a cursor (400 `invalid_cursor`: its job was
 * deleted between two pages), the walk resumes from its last good position, as often as it keeps making
 * progress (cursorTrail.ts), instead of failing the run.
 */
export async function walkFromTop(
  ctx: TaskContext,
  params: ListJobsParams,
  handlers: WalkHandlers,
): Promise<WalkResult> {
  const trail = new CursorTrail(undefined);
  for (;;) {
    const from = trail.current;
    try {
      return await walkPages(ctx, params, from === undefined ? {} : { startAfter: from }, {
        ...handlers,
        write: async (batch) => {
          await handlers.write(batch);
          let lastId: string | null = null;
          for (const b of batch) lastId = b.page.last_id ?? lastId;
          trail.advance(lastId);
        },
      });
    } catch (err) {
      const back = err instanceof InvalidCursorError && !ctx.aborted() ? trail.fallback() : undefined;
      if (!back) throw err;
      ctx.log.warn(
        { err, resumeAfter: back.from ?? null, restarts: trail.restartCount },
        'cursor rejected upstream (its job was deleted?); resuming from the last good position',
      );
    }
  }
}
