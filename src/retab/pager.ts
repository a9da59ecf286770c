/**
 * Cursor pagination as async iterators, so callers never juggle cursors by hand. A walk goes forward with
 * `after=<last_id>` (or backward with `before=<first_id>` from `startBefore`) until `has_more` is false.
 * Upstream answers that would make the walk loop forever (a cursor seen before, `has_more` with an empty
 * page) end it with an `InvalidResponseError` instead. A page whose items were all rejected still carries
 * its envelope's cursors, so the walk goes on past it.
 */
import type { IterPagesOptions, JobPage, RequestOptions } from './clientTypes.ts';
import { InvalidResponseError, RetabParamsError } from './errors.ts';
import type { Job, ListJobsParams } from './schemas.ts';

export type ListPageFn = (params: ListJobsParams, opts: RequestOptions) => Promise<JobPage>;

interface Walk {
  backward: boolean;
  start: string | undefined;
  rest: Omit<ListJobsParams, 'before' | 'after'>;
}

/** Where to start: `startAfter`/`startBefore`, or a cursor already in `params` (the same thing). */
function planWalk(params: ListJobsParams, opts: IterPagesOptions): Walk {
  const { before, after, ...rest } = params;
  const fwd = [opts.startAfter, after].filter((c) => c !== undefined);
  const back = [opts.startBefore, before].filter((c) => c !== undefined);
  if (fwd.length > 0 && back.length > 0) {
    throw new RetabParamsError(
      'startAfter/after and startBefore/before cannot be combined: a walk goes one way (no request was sent)',
      ['startAfter', 'startBefore'],
    );
  }
  for (const [name, list] of [
    ['after', fwd],
    ['before', back],
  ] as const) {
    if (list.length === 2 && list[0] !== list[1]) {
      throw new RetabParamsError(
        `params.${name} and the start${name === 'after' ? 'After' : 'Before'} option disagree; pass one (no request was sent)`,
        [name],
      );
    }
  }
  return back.length > 0
    ? { backward: true, start: back[0], rest }
    : { backward: false, start: fwd[0], rest };
}

export async function* iteratePages(
  list: ListPageFn,
  params: ListJobsParams = {},
  opts: IterPagesOptions = {},
): AsyncGenerator<JobPage, void, undefined> {
  const { backward, start, rest } = planWalk(params, opts);
  const dir = backward ? 'before' : 'after';
  const reqOpts: RequestOptions = {};
  if (opts.signal) reqOpts.signal = opts.signal;
  if (opts.onAttempt) reqOpts.onAttempt = opts.onAttempt;
  if (opts.onSend) reqOpts.onSend = opts.onSend;
  const seen = new Set<string>();
  let cursor = start;
  if (cursor !== undefined) seen.add(cursor);
  for (;;) {
    const page = await list(cursor === undefined ? rest : { ...rest, [dir]: cursor }, reqOpts);
    if (!page.has_more) {
      yield page;
      return;
    }
    const where = `GET /jobs${cursor === undefined ? '' : ` ${dir}=${cursor}`}`;
    const next = backward ? page.first_id : page.last_id;
    if (page.data.length + page.rejected.length === 0 || next === null) {
      throw new InvalidResponseError(
        `upstream said has_more=true but sent an empty page (${where}); stopping instead of looping forever`,
        { retryable: false },
      );
    }
    if (seen.has(next)) {
      throw new InvalidResponseError(
        `upstream pagination repeats cursor ${next} (${where}); stopping instead of looping forever`,
        { retryable: false },
      );
    }
    seen.add(next);
    yield page;
    cursor = next;
  }
}

/**
 * Every valid job of the walk in walk order: listing order going forward; going backward (`startBefore`),
 * the exact reverse of listing order (each page, which upstream sends in listing order, is reversed).
 */
export async function* iterateJobs(
  list: ListPageFn,
  params: ListJobsParams = {},
  opts: IterPagesOptions = {},
): AsyncGenerator<Job, void, undefined> {
  const backward = opts.startBefore !== undefined || params.before !== undefined;
  for await (const page of iteratePages(list, params, opts)) {
    if (backward) for (let i = page.data.length - 1; i >= 0; i--) yield page.data[i] as Job;
    else yield* page.data;
  }
}
