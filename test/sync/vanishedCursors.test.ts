/**
 * A walk survives any number of vanished cursors: when the job a cursor names is deleted upstream between
 * two pages (400 `invalid_cursor`), the walk resumes from its last good position, as often as it keeps making
 * progress, and the run succeeds with every remaining job mirrored. An upstream that rejects every cursor
 * fails the run instead of looping. On every store (test/stores.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import { utcDay } from '../../src/retab/jobFields.ts';
import { runHead, runWindow, SyncTaskError } from '../../src/sync/index.ts';
import { forEachStore } from '../stores.ts';
import { HEAD, type StoreWorld, storedJobs, storeWorld } from './helpers.ts';

let w: StoreWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** A client whose fetch deletes upstream the job named by the n-th distinct `after` cursor, for each n given. */
function deletingClient(w: StoreWorld, nth: number[]) {
  const cursors: string[] = [];
  const deleted: string[] = [];
  const f: typeof fetch = (input, init) => {
    const after = new URL(String(input)).searchParams.get('after');
    if (after && !cursors.includes(after)) {
      cursors.push(after);
      if (nth.includes(cursors.length)) {
        w.sim.store.remove(after);
        deleted.push(after);
      }
    }
    return fetch(input, init);
  };
  const client = createRetabClient({ apiKey: w.sim.apiKey, baseUrl: w.sim.url, fetch: f });
  return { client, deleted };
}

const mirroredIds = async (w: StoreWorld) => new Set((await storedJobs(w.mirror)).map((j) => j.id));

forEachStore((store) =>
  describe('vanished cursors', () => {
    it('a window walk whose cursor job is deleted twice in one run succeeds with the whole day', async () => {
      w = await storeWorld(store, { jobs: 400, days: 1, rates: { arrivalsPerMinute: 0 } });
      const day = utcDay(Math.floor(w.sim.clock.now() / 1000) - 3600);
      const { client, deleted } = deletingClient(w, [2, 5]);
      const r = await runWindow(
        { ...w.deps, client },
        { day, pageSize: 20, payloadMode: 'none', batchPages: 1 },
      );
      expect(r.outcome).toBe('success');
      expect(deleted).toHaveLength(2);
      const have = await mirroredIds(w);
      const want = w.sim.store.all().filter((j) => utcDay(j.created_at) === day);
      expect(want.length).toBeGreaterThan(100);
      expect(want.filter((j) => !have.has(j.id)).map((j) => j.id)).toEqual([]);
    });

    it('a head backfill whose cursor job is deleted twice in one run succeeds with every job', async () => {
      w = await storeWorld(store, { jobs: 300, days: 1, rates: { arrivalsPerMinute: 0 } });
      const { client, deleted } = deletingClient(w, [3, 6]);
      const r = await runHead({ ...w.deps, client }, { ...HEAD, pageSize: 20, backfillDays: 2 });
      expect(r.outcome).toBe('success');
      expect(deleted).toHaveLength(2);
      const have = await mirroredIds(w);
      expect(
        w.sim.store
          .all()
          .filter((j) => !have.has(j.id))
          .map((j) => j.id),
      ).toEqual([]);
    });

    it('an upstream that rejects every cursor fails the run (invalid_cursor) instead of looping', async () => {
      w = await storeWorld(store, { jobs: 300, days: 1, rates: { arrivalsPerMinute: 0 } });
      w.sim.faults.set({ probabilities: { cursor_reject: 1 }, routes: ['list'] });
      // cursor_reject answers every list request; the first page of a walk has no cursor, so let those through.
      const f: typeof fetch = (input, init) => {
        if (!new URL(String(input)).searchParams.has('after')) w?.sim.faults.enqueue('ok');
        return fetch(input, init);
      };
      const client = createRetabClient({ apiKey: w.sim.apiKey, baseUrl: w.sim.url, fetch: f });
      const day = utcDay(Math.floor(w.sim.clock.now() / 1000) - 3600);
      const err = await runWindow({ ...w.deps, client }, { day, pageSize: 20, payloadMode: 'none' }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SyncTaskError);
      expect((err as SyncTaskError).message).toMatch(/invalid_cursor|cursor/);
      expect((err as SyncTaskError).summary.requests).toBeLessThan(10);
    });
  }),
);
