/**
 * The pager loop with one page of prefetch: while the mirror writes page N (a synchronous transaction), the
 * request for page N+1 is already in flight, so a long walk costs about max(fetch, write) per page rather
 * than fetch + write. The next page is only requested once the caller has said it wants it (`more`), so a
 * walk that stops early (head) never pays for a page it throws away.
 *
 * On abort, a page already in flight gets a short grace to arrive and is committed too (it is paid for, and
 * the rerun then starts after it); past the grace it is cancelled.
 */
import type { IterPagesOptions, JobPage } from '../retab/clientTypes.ts';
import type { ListJobsParams } from '../retab/schemas.ts';
import type { TaskContext } from './taskRun.ts';

/** How long an abort waits for a page already in flight before cancelling it, ms. */
export const ABORT_GRACE_MS = 1000;

export interface WalkHandlers {
  /**
   * Decide, before the page is written, whether the walk goes on past it. Runs only when upstream has more.
   * @default () => true
   */
  more?: (page: JobPage) => boolean;
  /** Write the page (its fetch time is `observedAt`). */
  write: (page: JobPage, observedAt: number) => void;
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
  // Our own controller: an abort cancels the in-flight request only after the grace, and a write error or
  // an early stop cancels the prefetched one.
  const inner = new AbortController();
  const outer = ctx.deps.signal;
  let grace: NodeJS.Timeout | undefined;
  const onOuterAbort = () => {
    grace = setTimeout(() => inner.abort(outer?.reason), ABORT_GRACE_MS);
    grace.unref();
  };
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const onAttempt = ctx.request.onAttempt;
  const pages = ctx.deps.client.iterPages(params, {
    ...start,
    signal: inner.signal,
    ...(onAttempt ? { onAttempt } : {}),
  });
  const pull = () => pages.next().then((r) => ({ r, observedAt: ctx.now() }));
  let pending: ReturnType<typeof pull> | undefined = pull();
  try {
    for (;;) {
      const current = pending;
      pending = undefined;
      if (!current) return { completed: false };
      let next: Awaited<typeof current>;
      try {
        next = await current;
      } catch (err) {
        if (ctx.aborted()) return { completed: false };
        throw err;
      }
      const { r, observedAt } = next;
      if (r.done) return { completed: true };
      const page = r.value;
      const more = page.has_more && !ctx.aborted() && (handlers.more?.(page) ?? true);
      if (more) {
        pending = pull();
        // If the write below throws, nobody awaits this one: it is cancelled in `finally`.
        pending.catch(() => {});
      }
      handlers.write(page, observedAt);
      if (!page.has_more) return { completed: true };
      if (!more) return { completed: false };
      // Aborted during the write: the loop takes the page in flight (within the grace), writes it, stops.
    }
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
    clearTimeout(grace);
    if (pending) {
      inner.abort();
      await pending.catch(() => {});
    }
    await pages.return(undefined).catch(() => {});
  }
}
