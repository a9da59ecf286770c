import { describe, expect, it } from 'vitest';
import type { JobPage } from '../../src/retab/clientTypes.ts';
import { InvalidResponseError, RetabParamsError } from '../../src/retab/errors.ts';
import { iterateJobs, iteratePages, type ListPageFn } from '../../src/retab/pager.ts';
import type { Job, ListJobsParams } from '../../src/retab/schemas.ts';

// The pager is a pure loop over a list function; these upstream misbehaviours cannot be produced by the
// simulator, so they are scripted here. Walks against real HTTP are in client.integration.test.ts.
function page(ids: string[], has_more: boolean, over: Partial<JobPage> = {}): JobPage {
  return {
    object: 'list',
    data: ids.map((id) => ({ id }) as Job),
    first_id: ids[0] ?? null,
    last_id: ids[ids.length - 1] ?? null,
    has_more,
    list_metadata: { before: null, after: has_more ? (ids[ids.length - 1] ?? null) : null },
    rejected: [],
    ...over,
  };
}

function scripted(pages: JobPage[]) {
  const calls: ListJobsParams[] = [];
  const list: ListPageFn = async (params) => {
    calls.push(params);
    const next = pages.shift();
    if (!next) throw new Error('no more scripted pages');
    return next;
  };
  return { list, calls };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('iteratePages', () => {
  it('follows last_id with after until has_more is false, keeping other params', async () => {
    const { list, calls } = scripted([page(['a', 'b'], true), page(['c', 'd'], true), page(['e'], false)]);
    const pages = await collect(iteratePages(list, { limit: 2, status: 'failed' }));
    expect(pages).toHaveLength(3);
    expect(calls).toEqual([
      { limit: 2, status: 'failed' },
      { limit: 2, status: 'failed', after: 'b' },
      { limit: 2, status: 'failed', after: 'd' },
    ]);
  });

  it('resumes from a stored cursor, and walks backward with before from startBefore', async () => {
    const fwd = scripted([page(['c'], false)]);
    await collect(iteratePages(fwd.list, { limit: 1 }, { startAfter: 'b' }));
    expect(fwd.calls).toEqual([{ limit: 1, after: 'b' }]);

    const back = scripted([page(['c', 'd'], true), page(['a', 'b'], false)]);
    const jobs = await collect(iterateJobs(back.list, {}, { startBefore: 'e' }));
    expect(back.calls).toEqual([{ before: 'e' }, { before: 'c' }]);
    expect(jobs.map((j) => j.id)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('continues past a page whose items were all rejected', async () => {
    const rejected = [{ index: 0, id: 'x', raw: {}, reason: 'status: bad', issues: [] }];
    const { list, calls } = scripted([
      page([], true, { first_id: 'x', last_id: 'x', rejected }),
      page(['y'], false),
    ]);
    const jobs = await collect(iterateJobs(list));
    expect(jobs.map((j) => j.id)).toEqual(['y']);
    expect(calls[1]).toEqual({ after: 'x' });
  });

  it('raises instead of looping on a repeated cursor', async () => {
    const { list } = scripted([page(['a', 'b'], true), page(['a', 'b'], true), page(['a', 'b'], true)]);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const p of iteratePages(list)) seen.push(...p.data.map((j) => j.id));
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidResponseError);
    expect((err as Error).message).toMatch(/repeats cursor b/);
    expect(seen).toEqual(['a', 'b']);
  });

  it('raises on has_more with an empty page', async () => {
    const { list } = scripted([page([], true)]);
    await expect(collect(iteratePages(list))).rejects.toThrow(/has_more=true but sent an empty page/);
  });

  it('refuses a walk in both directions before sending anything', async () => {
    const { list, calls } = scripted([]);
    await expect(collect(iteratePages(list, { after: 'a' }, { startBefore: 'b' }))).rejects.toBeInstanceOf(
      RetabParamsError,
    );
    await expect(collect(iteratePages(list, { after: 'a' }, { startAfter: 'b' }))).rejects.toBeInstanceOf(
      RetabParamsError,
    );
    expect(calls).toEqual([]);
  });
});
