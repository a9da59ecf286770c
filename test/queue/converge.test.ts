/** The scheduled worker fills the mirror and keeps it equal to upstream while upstream keeps changing. */
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startWorker } from '../../src/queue/worker.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { dropPrefix, SIM_NOW, statusDiff, type TempDir, tempDir, testConfig, waitFor } from './helpers.ts';

const redisUrl = inject('redisUrl');
let sim: Simulator;
let tmp: TempDir;

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, jobs: 400, days: 3, now: SIM_NOW });
  tmp = tempDir();
});

afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

it('fills the mirror and converges to upstream while the upstream clock advances', async () => {
  const mirror = tmp.open();
  const config = testConfig(
    { redisUrl, sim, dbPath: tmp.dbPath },
    // Reconcile ticks as well: a job retried and finished again between two active sweeps (likely when
    // 20 s of upstream time pass per 100 ms) is only caught by re-sweeping its day, by design.
    { headEveryMs: 300, activeEveryMs: 200, hydrateEveryMs: 500, reconcileEveryMs: 1500, backfillDays: 4 },
  );
  const worker = await startWorker({ config, mirror, now: () => sim.clock.now(), events: false });
  try {
    // Upstream evolves for a while: arrivals, transitions, retries, expiries.
    for (let i = 0; i < 15; i++) {
      sim.clock.advance(20_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    const initial = 400;
    expect(sim.store.size).toBeGreaterThan(initial); // new jobs arrived while the worker ran
    const successes = () => {
      const runs = mirror.sqlite
        .prepare("SELECT task, count(*) AS n FROM sync_runs WHERE outcome = 'success' GROUP BY task")
        .all() as { task: string; n: number }[];
      return Object.fromEntries(runs.map((r) => [r.task, r.n])) as Record<string, number | undefined>;
    };
    // The schedule really ticks: several sweeps of each kind, not one pass, and at least one of reconcile's
    // day sweeps (its first tick can finish after the mirror already matches, on a loaded machine).
    await waitFor(
      'the mirror to equal upstream, after several ticks of each schedule',
      () => {
        const diff = statusDiff(sim, mirror);
        if (diff.length > 0)
          throw new Error(`${diff.length} jobs differ, e.g. ${diff.slice(0, 3).join('; ')}`);
        const byTask = successes();
        if (!((byTask.head ?? 0) > 2 && (byTask.active ?? 0) > 2 && (byTask.window ?? 0) > 0))
          throw new Error(`successful runs so far: ${JSON.stringify(byTask)}`);
        return true;
      },
      {
        timeoutMs: 20_000,
        intervalMs: 200,
      },
    );
    const mirrored = mirror.sqlite.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number };
    expect(mirrored.n).toBe(sim.store.size);
    const byTask = successes();
    expect(byTask.head).toBeGreaterThan(2);
    expect(byTask.active).toBeGreaterThan(2);
    expect(byTask.window).toBeGreaterThan(0);
  } finally {
    await worker.close();
    await dropPrefix(redisUrl, config.queuePrefix);
  }
});
