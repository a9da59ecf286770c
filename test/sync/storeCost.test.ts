/**
 * The store does not change the sync's cost (issue #21, "steady-state requests per cycle unchanged"): the same
 * seeded simulator scenario, synced into each store, makes exactly the same upstream requests — the same
 * count per phase and the same requests (route and parameters, as the simulator logged them). The scenario:
 * a lightweight backfill by day windows, head + active until steady, then five live minutes, one cycle after
 * k = 50 scattered changes (20 new jobs, 15 cancelled in flight, 15 failed retried) and one quiet cycle.
 *
 * Counted by the simulator (not timed), so it holds on any machine. `PRINT_COSTS=1` prints the per-phase
 * figures (bench/RESULTS.md §2 quotes them).
 */
import { expect, it } from 'vitest';
import { runActive, runHead, runWindow } from '../../src/sync/index.ts';
import { backfillDays } from '../../src/sync/partitions.ts';
import { forEachStore, type StoreKind, storeKinds } from '../stores.ts';
import { ACTIVE, HEAD, storeWorld } from './helpers.ts';

interface Phase {
  phase: string;
  /** Requests the simulator received during the phase. */
  requests: number;
  /** The same, per route and parameter set (`GET /v1/jobs?limit=100&status=queued` → 1). */
  byKey: Record<string, number>;
}

const costs = new Map<StoreKind, Phase[]>();
const LIGHT_HEAD = { ...HEAD, payloadMode: 'none' as const };
const SWEEP = { ...ACTIVE, statuses: [...ACTIVE.statuses] };

forEachStore((store) => {
  it('a scripted scenario: a steady-state cycle costs a few requests', async () => {
    const w = await storeWorld(store, { jobs: 3000, days: 7 });
    try {
      const { sim, deps } = w;
      const phases: Phase[] = [];
      const measure = async (phase: string, fn: () => Promise<unknown>) => {
        sim.stats.reset();
        await fn();
        phases.push({ phase, requests: sim.stats.total, byKey: sim.stats.byKey() });
      };
      const cycle = async () => {
        await runHead(deps, LIGHT_HEAD);
        await runActive(deps, SWEEP);
      };
      const now = sim.clock.now();
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      await measure('backfill (day windows) + first cycle', async () => {
        for (const d of backfillDays(day(now - 8 * 86_400_000), day(now)))
          await runWindow(deps, { day: d, pageSize: 100, payloadMode: 'none' });
        await cycle();
      });
      sim.clock.advance(15 * 60_000);
      await measure('settle (15 min later)', cycle);
      for (let i = 1; i <= 5; i++) {
        sim.clock.advance(60_000);
        await measure(`live minute ${i}`, cycle);
      }
      const all = sim.store.all();
      for (let i = 0; i < 20; i++)
        sim.store.create({
          endpoint: '/v1/documents/extract',
          request: { document: { filename: `cost-${i}.pdf`, url: 'https://x/cost.pdf' } },
        });
      const running = all.filter((j) => j.status === 'queued' || j.status === 'in_progress').slice(0, 15);
      for (const j of running) sim.store.cancel(j.id);
      for (const j of all.filter((x) => x.status === 'failed').slice(0, 15)) sim.store.retry(j.id);
      await measure('k = 50 scattered changes', cycle);
      await measure('quiet', cycle);

      expect(phases.at(-1)?.requests).toBeLessThanOrEqual(4);
      for (const p of phases.filter((x) => x.phase.startsWith('live')))
        expect(p.requests).toBeLessThanOrEqual(8);
      costs.set(store.kind, phases);
      if (process.env.PRINT_COSTS)
        console.log(store.kind, phases.map((p) => `${p.phase}: ${p.requests}`).join('; '));
    } finally {
      await w.close();
    }
  }, 120_000);
});

it.runIf(storeKinds().length > 1)('every store makes the same upstream requests in every phase', () => {
  const sqlite = costs.get('sqlite');
  const postgres = costs.get('postgres');
  expect(sqlite, 'the sqlite scenario ran').toBeDefined();
  expect(postgres, 'the postgres scenario ran').toBeDefined();
  expect(postgres?.map((p) => [p.phase, p.requests])).toEqual(sqlite?.map((p) => [p.phase, p.requests]));
  expect(postgres).toEqual(sqlite);
});
