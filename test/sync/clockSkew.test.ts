/**
 * Watermarks come from upstream time, never from the machine's clock alone. The simulator's clock (its
 * `Date` header and its jobs' `created_at`) is set 1 h and 10 min behind and ahead of the machine's, while
 * the sync dates everything by the machine's clock: every job created upstream after a first
 * `BACKFILL_DAYS=0` run must be mirrored by the next head run, and nothing older than that first run. On
 * every store (test/stores.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runHead, runWindow } from '../../src/sync/index.ts';
import { forEachStore } from '../stores.ts';
import { HEAD, type StoreWorld, storedJobs, storeWorld } from './helpers.ts';

let w: StoreWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const MIN = 60_000;

forEachStore((store) =>
  describe('upstream clock skewed against the machine', () => {
    for (const offset of [-60 * MIN, -10 * MIN, 10 * MIN, 60 * MIN]) {
      it(`upstream ${offset / MIN} min: every job created after the first BACKFILL_DAYS=0 run is mirrored by the next head run`, async () => {
        // Arrivals off: only the jobs this test creates are new.
        w = await storeWorld(
          store,
          { jobs: 200, days: 1, now: Date.now() + offset, rates: { arrivalsPerMinute: 0 } },
          { now: Date.now },
        );
        const { sim, mirror } = w;
        const head = { ...HEAD, backfillDays: 0 };
        expect((await runHead(w.deps, head)).outcome).toBe('success');
        // Only jobs from the first run on, by upstream's clock: none of the generated history.
        const firstRunS = Math.floor(sim.clock.now() / 1000);
        const oldest = Math.min(firstRunS, ...(await storedJobs(mirror)).map((j) => j.created_at));
        expect(oldest).toBeGreaterThanOrEqual(firstRunS - 1);
        expect((await mirror.syncState.get('head'))?.watermark).toBeLessThanOrEqual(firstRunS);

        const created = [];
        for (let i = 0; i < 3; i++) {
          sim.clock.advance(20_000);
          created.push(
            sim.store.create({
              endpoint: '/v1/documents/extract',
              request: { document: { filename: `f${i}.pdf` } },
            }),
          );
        }
        expect((await runHead(w.deps, head)).outcome).toBe('success');
        for (const j of created) expect((await mirror.jobs.get(j.id))?.id).toBe(j.id);
      });
    }

    it("a window of upstream's today stays open while the machine's clock says the day is over", async () => {
      // Upstream 1 h behind, just before its midnight: the machine is already past it.
      const upstreamNow = Date.parse('2026-11-29T23:30:00Z');
      w = await storeWorld(
        store,
        { jobs: 100, days: 1, now: upstreamNow, rates: { arrivalsPerMinute: 0 } },
        {
          now: () => upstreamNow + 60 * MIN,
        },
      );
      const r = await runWindow(w.deps, { day: '2026-11-29', pageSize: 100, payloadMode: 'request' });
      expect(r.outcome).toBe('success');
      // Not `done`: a rerun lists the jobs upstream still creates on its 29th.
      expect((await w.mirror.syncState.get('window:2026-11-29'))?.status).toBe('idle');
    });
  }),
);
