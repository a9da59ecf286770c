/**
 * Fencing tokens in the store (src/mirror/fence.ts), on both stores: a page or checkpoint written with a stale
 * token is refused whole (rows, events, checkpoint); the current token's write commits; a write without a token
 * is unconditional (the CLI's `sync`, the library).
 */
import { expect, it } from 'vitest';
import { FencedWriteError, fencedStore } from '../../src/mirror/index.ts';
import { makeJob } from '../mirror/factory.ts';
import { forEachStore } from '../stores.ts';

forEachStore((s) => {
  it('takeFence hands out 1, 2, 3… per partition, atomically, and creates the row', async () => {
    const store = await s.open();
    expect(await store.syncState.takeFence('head', 1_000)).toBe(1);
    expect(await store.syncState.takeFence('head', 2_000)).toBe(2);
    expect(await store.syncState.takeFence('window:2026-11-01')).toBe(1);
    expect(await store.syncState.get('head')).toMatchObject({ partition: 'head', status: 'idle', fence: 2 });
    const tokens = await Promise.all(Array.from({ length: 10 }, () => store.syncState.takeFence('head')));
    expect(new Set(tokens).size).toBe(10);
    expect(Math.max(...tokens)).toBe(12);
  });

  it("a stale token's page is rejected with nothing of it committed; the current token's commits", async () => {
    const store = await s.open();
    const stale = await store.syncState.takeFence('head');
    await store.jobs.applyPage([makeJob()], {
      observedAt: 1_000,
      fence: { partition: 'head', token: stale },
      checkpoint: { partition: 'head', cursor: 'job_first', status: 'running', pagesDelta: 1 },
    });
    const current = await store.syncState.takeFence('head'); // another worker took the partition over
    const eventsBefore = await store.outbox.count();
    const late = makeJob();
    const write = store.jobs.applyPage([late], {
      observedAt: 2_000,
      fence: { partition: 'head', token: stale },
      checkpoint: { partition: 'head', cursor: late.id, pagesDelta: 1 },
      rejected: [{ index: 0, id: 'bad', raw: { id: 'bad' }, reason: 'test', issues: [] }],
    });
    await expect(write).rejects.toThrow(FencedWriteError);
    await expect(write).rejects.toThrow(
      `write to partition head refused: fencing token ${stale} is stale (the mirror holds ${current}); another worker took the partition over`,
    );
    expect(await store.jobs.get(late.id)).toBeUndefined();
    expect(await store.outbox.count()).toBe(eventsBefore);
    expect(await store.quarantine.list()).toEqual([]);
    expect(await store.syncState.get('head')).toMatchObject({
      cursor: 'job_first',
      pages: 1,
      fence: current,
    });

    // The fence row is the lease's partition; the checkpoint may be another row (head per source).
    const next = makeJob();
    await store.jobs.applyPage([next], {
      observedAt: 3_000,
      fence: { partition: 'head', token: current },
      checkpoint: { partition: 'head:source=api', cursor: next.id },
    });
    expect(await store.jobs.get(next.id)).toBeDefined();
    expect((await store.syncState.get('head:source=api'))?.cursor).toBe(next.id);
  });

  it('syncState.save with a stale token stores nothing; with the current one it saves', async () => {
    const store = await s.open();
    const stale = await store.syncState.takeFence('window:2026-11-01');
    const current = await store.syncState.takeFence('window:2026-11-01');
    const fence = { partition: 'window:2026-11-01', token: stale };
    const save = store.syncState.save({ partition: 'window:2026-11-01', status: 'done' }, 5_000, fence);
    await expect(save).rejects.toBeInstanceOf(FencedWriteError);
    await expect(save).rejects.toMatchObject({ partition: 'window:2026-11-01', token: stale, current });
    expect((await store.syncState.get('window:2026-11-01'))?.status).toBe('idle');
    await store.syncState.save({ partition: 'window:2026-11-01', status: 'done' }, 5_000, {
      ...fence,
      token: current,
    });
    expect((await store.syncState.get('window:2026-11-01'))?.status).toBe('done');
  });

  it('a token for a partition never leased (no row) is refused', async () => {
    const store = await s.open();
    const write = store.jobs.applyPage([makeJob()], {
      observedAt: 1,
      fence: { partition: 'head', token: 1 },
    });
    await expect(write).rejects.toMatchObject({ name: 'FencedWriteError', current: undefined });
    expect(await store.jobs.count()).toBe(0);
  });

  it('writes without a token stay unconditional, whatever the fence', async () => {
    const store = await s.open();
    await store.syncState.takeFence('head');
    await store.syncState.takeFence('head');
    const job = makeJob();
    await store.jobs.applyPage([job], {
      observedAt: 1_000,
      checkpoint: { partition: 'head', cursor: job.id },
    });
    await store.syncState.save({ partition: 'head', status: 'done' });
    expect(await store.syncState.get('head')).toMatchObject({ cursor: job.id, status: 'done', fence: 2 });
  });

  it('fencedStore adds the token to every page and checkpoint of a task', async () => {
    const store = await s.open();
    const token = await store.syncState.takeFence('head');
    const view = fencedStore(store, { partition: 'head', token });
    expect(view.kind).toBe(store.kind);
    expect(view.location).toBe(store.location);
    await view.jobs.applyPage([makeJob()], {
      observedAt: 1,
      checkpoint: { partition: 'head', pagesDelta: 1 },
    });
    await store.syncState.takeFence('head');
    await expect(view.jobs.applyPage([makeJob()], { observedAt: 2 })).rejects.toBeInstanceOf(
      FencedWriteError,
    );
    await expect(view.syncState.save({ partition: 'head', status: 'done' })).rejects.toBeInstanceOf(
      FencedWriteError,
    );
    expect(await view.jobs.count()).toBe(1);
    expect(await view.syncState.get('head')).toMatchObject({ pages: 1, status: 'idle' });
  });
});
