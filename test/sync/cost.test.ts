/**
 * The steady-state cost of a poll cycle is O(changes / page size), never O(jobs mirrored): with 20k jobs
 * mirrored and k of them changed, one head + active cycle costs a small constant + k/100 + one request per
 * vanished job it had to resolve, where a naive full re-list costs ≥ 200. On each store (test/stores.ts): the
 * store must not change the sync's cost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runActive, runHead, runWindow } from '../../src/sync/index.ts';
import { backfillDays } from '../../src/sync/partitions.ts';
import { forEachStore } from '../stores.ts';
import { ACTIVE, HEAD, type StoreWorld, storeWorld } from './helpers.ts';

// One test per store: the mirror opened in beforeAll is closed by forEachStore after that test.
forEachStore((store) => {
  let w: StoreWorld;
  beforeAll(async () => {
    w = await storeWorld(store, { jobs: 20_000, days: 14 });
    // Build the mirror by windows, lightweight, 25 pages a transaction: the quickest way to 20k mirrored jobs.
    const now = w.sim.clock.now();
    const days = backfillDays(
      new Date(now - 15 * 86_400_000).toISOString().slice(0, 10),
      new Date(now).toISOString().slice(0, 10),
    );
    for (const day of days)
      await runWindow(w.deps, { day, pageSize: 100, payloadMode: 'none', batchPages: 25 });
    await runHead(w.deps, { ...HEAD, payloadMode: 'none' });
    await runActive(w.deps, { ...ACTIVE, statuses: [...ACTIVE.statuses] });
    // Steady state: the generated history is dense in its last minutes; let live traffic take over the overlap.
    w.sim.clock.advance(15 * 60_000);
    await runHead(w.deps, { ...HEAD, payloadMode: 'none' });
    await runActive(w.deps, { ...ACTIVE, statuses: [...ACTIVE.statuses] });
  }, 120_000);
  afterAll(() => w?.close());

  describe('steady-state cost', () => {
    it('one head + active cycle after k = 50 changes costs about k/100 + the vanished jobs, not 20k/100', async () => {
      const { sim, deps, mirror } = w;
      expect(await mirror.jobs.count()).toBe(sim.store.size);
      const all = sim.store.all();
      // k = 50 changes: 20 new jobs, 15 in-flight or stuck jobs cancelled, 15 failed jobs retried.
      const created = Array.from({ length: 20 }, (_, i) =>
        sim.store.create({
          endpoint: '/v1/documents/extract',
          request: { document: { filename: `new-${i}.pdf`, url: 'https://x/new.pdf' }, model: 'gpt-4.1' },
        }),
      );
      const running = all.filter((j) => j.status === 'queued' || j.status === 'in_progress').slice(0, 15);
      const failed = all.filter((j) => j.status === 'failed').slice(0, 15);
      expect(running.length).toBeGreaterThan(5);
      for (const j of running) sim.store.cancel(j.id);
      for (const j of failed) sim.store.retry(j.id);

      sim.stats.reset();
      const head = await runHead(deps, { ...HEAD, payloadMode: 'none' });
      const active = await runActive(deps, { ...ACTIVE, statuses: [...ACTIVE.statuses] });
      const cycle = sim.stats.total;
      // The client counts attempts (a reused keep-alive socket closed by the server is retried): never fewer.
      expect(head.requests + active.requests).toBeGreaterThanOrEqual(cycle);

      const vanished = running.length; // the cancelled ones left the in-flight statuses
      const k = created.length + running.length + failed.length;
      // The constant: one head page (new jobs + the overlap fit in it) and one listing page per in-flight status
      // (more only if a status holds over 100 jobs, which depends on traffic, not on the mirror's size).
      const inFlight = await mirror.jobs.countByStatus();
      const listingPages = ACTIVE.statuses.reduce((n, s) => n + Math.max(1, Math.ceil(inFlight[s] / 100)), 0);
      expect(listingPages).toBeLessThanOrEqual(6);
      expect(head.requests).toBe(1);
      expect(cycle).toBeLessThanOrEqual(1 + listingPages + Math.ceil(k / 100) + vanished);
      const statusOf = async (id: string) => (await mirror.jobs.get(id))?.status;
      for (const j of created) expect(await statusOf(j.id)).toBe('validating');
      for (const j of running) expect(await statusOf(j.id)).toBe('cancelled');
      for (const j of failed) expect(await statusOf(j.id)).toBe('queued');

      // The naive alternative: re-list everything.
      sim.stats.reset();
      for await (const _ of deps.client.iterPages({ limit: 100 })) {
        // count only
      }
      const naive = sim.stats.total;
      expect(naive).toBeGreaterThanOrEqual(200);
      expect(cycle * 5).toBeLessThan(naive);

      // A quiet cycle (nothing changed) costs the constant only.
      sim.stats.reset();
      await runHead(deps, { ...HEAD, payloadMode: 'none' });
      await runActive(deps, { ...ACTIVE, statuses: [...ACTIVE.statuses] });
      expect(sim.stats.total).toBeLessThanOrEqual(4);
    });
  });
});
