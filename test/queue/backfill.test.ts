/** Backfill through the queue: idempotent enqueuing, one run per window, and resumption after a kill. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { enqueueBackfill } from '../../src/queue/backfill.ts';
import { startWorker } from '../../src/queue/worker.ts';
import { utcDay } from '../../src/retab/jobFields.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { backfillDays } from '../../src/sync/partitions.ts';
import { dropPrefix, SIM_NOW, statusDiff, type TempDir, tempDir, testConfig, waitFor } from './helpers.ts';

const redisUrl = inject('redisUrl');
const FROM = '2026-10-20';
const TO = '2026-10-29';
const DAYS = backfillDays(FROM, TO);
let sim: Simulator;

beforeAll(async () => {
  // Frozen upstream (the clock never advances): what a finished backfill must hold is exactly known.
  sim = await startSimulator({ seed: 11, jobs: 600, days: 14, now: SIM_NOW });
});

afterAll(async () => {
  await sim.close();
});

const inRange = (createdAt: number) => {
  const day = utcDay(createdAt);
  return day >= FROM && day <= TO;
};

function windowRuns(tmp: TempDir) {
  const m = tmp.open();
  const rows = m.sqlite
    .prepare(
      "SELECT partition, outcome, count(*) AS n FROM sync_runs WHERE task = 'window' GROUP BY partition, outcome",
    )
    .all() as { partition: string; outcome: string; n: number }[];
  return rows;
}

describe('backfill', () => {
  it('enqueued twice runs each day window once and fills those days', async () => {
    const tmp = tempDir();
    const config = testConfig({ redisUrl, sim, dbPath: tmp.dbPath }, { pageSize: 20, workerConcurrency: 3 });
    const worker = await startWorker({
      config,
      mirror: tmp.open(),
      now: () => sim.clock.now(),
      schedulers: false,
      events: false,
    });
    try {
      const first = await enqueueBackfill(worker.queue, { from: FROM, to: TO });
      const second = await enqueueBackfill(worker.queue, { from: FROM, to: TO });
      expect(first.added).toEqual(DAYS.map((d) => `window-${d}`));
      expect(second.added).toEqual([]);
      expect(second.existing).toHaveLength(DAYS.length);

      await waitFor(
        'every window job to complete',
        async () => (await worker.queue.getJobCounts('completed')).completed === DAYS.length,
      );
      // Enqueued once more after they finished: still nothing new.
      expect((await enqueueBackfill(worker.queue, { from: FROM, to: TO })).added).toEqual([]);

      const runs = windowRuns(tmp);
      expect(runs.map((r) => r.partition).sort()).toEqual(DAYS.map((d) => `window:${d}`));
      for (const r of runs) expect(r).toMatchObject({ outcome: 'success', n: 1 });
      expect(statusDiff(sim, tmp.open(), inRange)).toEqual([]);
    } finally {
      await worker.close();
      await dropPrefix(redisUrl, config.queuePrefix);
      tmp.cleanup();
    }
  });

  it('killed mid-way and restarted, finishes without refetching committed pages', async () => {
    const tmp = tempDir();
    const config = testConfig({ redisUrl, sim, dbPath: tmp.dbPath }, { pageSize: 5, workerConcurrency: 2 });
    const start = (onPage?: () => void) =>
      startWorker({
        config,
        mirror: tmp.open(),
        now: () => sim.clock.now(),
        schedulers: false,
        events: false,
        ...(onPage ? { onPage } : {}),
      });
    sim.stats.reset();
    try {
      let pages = 0;
      let killing: Promise<void> | undefined;
      const first = await start(() => {
        pages++;
        if (pages === 12) killing = first.close();
      });
      await enqueueBackfill(first.queue, { from: FROM, to: TO });
      await waitFor('the first worker to be killed', () => killing !== undefined);
      await killing;

      const atKill = windowRuns(tmp);
      expect(atKill.filter((r) => r.outcome === 'success').length).toBeLessThan(DAYS.length); // really interrupted
      expect(atKill.filter((r) => r.outcome === 'aborted').length).toBeGreaterThan(0);
      expect(atKill.filter((r) => r.outcome === 'failed' || r.outcome === 'running')).toEqual([]);

      const second = await start();
      try {
        // A dense day also queues the walk from its end (src/sync/daySplit.ts): done when no window job is left.
        await waitFor('the backfill to finish', async () => {
          const c = await second.queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
          expect(c.failed).toBe(0);
          const pending = (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0);
          return (c.completed ?? 0) >= DAYS.length && pending === 0;
        });
      } finally {
        await second.close();
      }
      expect(statusDiff(sim, tmp.open(), inRange)).toEqual([]);

      // Per day, each `after` cursor was requested once; only a page in flight at the kill (one per running
      // window, so at most `workerConcurrency`) may have been asked again.
      const lists = sim.stats.requests.filter((r) => r.route === 'list' && r.status === 200);
      let repeats = 0;
      for (const day of DAYS) {
        // Keyed by order too: a dense day is also walked from its end (its own cursors, its own start).
        const afters = lists
          .filter((r) => r.query.from_date === day)
          .map((r) => `${r.query.order}:${r.query.after ?? '(start)'}`);
        repeats += afters.length - new Set(afters).size;
      }
      expect(repeats).toBeLessThanOrEqual(config.workerConcurrency);
      // Each window ended as one success; the interrupted ones also have their aborted run on record.
      const runs = windowRuns(tmp);
      const success = runs.filter((r) => r.outcome === 'success');
      const fromStart = success.filter((r) => !r.partition.endsWith(':desc'));
      expect(fromStart.map((r) => r.partition).sort()).toEqual(DAYS.map((d) => `window:${d}`));
      for (const r of success) expect(r.n).toBe(1);
      expect(runs.filter((r) => r.outcome === 'aborted').length).toBeGreaterThan(0);
      expect(runs.filter((r) => r.outcome === 'running')).toEqual([]);
    } finally {
      await dropPrefix(redisUrl, config.queuePrefix);
      tmp.cleanup();
    }
  });
});
