/** The schedule in Redis follows the config: created once, updated when an interval changes, pruned. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorker } from '../../src/queue/worker.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { dropPrefix, SIM_NOW, type TempDir, tempDir, testConfig } from './helpers.ts';

const redisUrl = inject('redisUrl');
let sim: Simulator;
let tmp: TempDir;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, jobs: 40, days: 2, now: SIM_NOW });
  tmp = tempDir();
});

afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

describe('job schedulers', () => {
  it('are created once per partition, updated on interval change, and removed with their partition', async () => {
    const mirror = tmp.open();
    const config = testConfig({ redisUrl, sim, dbPath: tmp.dbPath }, { activeEveryMs: 20_000 });
    const start = (c: typeof config) =>
      startWorker({ config: c, mirror, now: () => sim.clock.now(), events: false });
    try {
      const first = await start(config);
      expect(first.schedulers?.created.sort()).toEqual(
        ['active:in_progress', 'active:queued', 'active:validating', 'head', 'hydrate', 'reconcile'].sort(),
      );
      await first.close();

      const second = await start(config);
      expect(second.schedulers?.created).toEqual([]);
      expect(second.schedulers?.unchanged).toHaveLength(6);
      const schedulers = await second.queue.getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).toEqual(
        ['active:in_progress', 'active:queued', 'active:validating', 'head', 'hydrate', 'reconcile'].sort(),
      );
      expect(schedulers.find((s) => s.key === 'active:queued')?.every).toBe(20_000);
      // One pending run per scheduler at most: starting twice did not double the schedule.
      const pending = await second.queue.getJobs(['delayed', 'waiting', 'prioritized']);
      const perScheduler = new Map<string, number>();
      for (const j of pending)
        if (j.repeatJobKey) perScheduler.set(j.repeatJobKey, (perScheduler.get(j.repeatJobKey) ?? 0) + 1);
      for (const n of perScheduler.values()) expect(n).toBe(1);
      await second.close();

      const changed = {
        ...config,
        activeEveryMs: 45_000,
        activeStatuses: ['queued', 'in_progress'] as const,
      };
      const third = await start({ ...changed, activeStatuses: [...changed.activeStatuses] });
      expect(third.schedulers?.removed).toEqual(['active:validating']);
      expect(third.schedulers?.updated.sort()).toEqual(['active:in_progress', 'active:queued']);
      const after = await third.queue.getJobSchedulers();
      expect(after.map((s) => s.key).sort()).toEqual(
        ['active:in_progress', 'active:queued', 'head', 'hydrate', 'reconcile'].sort(),
      );
      expect(after.find((s) => s.key === 'active:in_progress')?.every).toBe(45_000);
      expect(after.find((s) => s.key === 'head')?.every).toBe(config.headEveryMs);
      const left = await third.queue.getJobs(['delayed', 'waiting', 'prioritized']);
      expect(left.filter((j) => j.repeatJobKey === 'active:validating')).toEqual([]);
      await third.close();
    } finally {
      await dropPrefix(redisUrl, config.queuePrefix);
    }
  });
});
