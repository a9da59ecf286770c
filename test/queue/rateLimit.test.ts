/** A 429 that outlives the client's retries pauses the whole queue for Retry-After and costs no attempt. */
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { enqueueBackfill } from '../../src/queue/backfill.ts';
import { startWorker } from '../../src/queue/worker.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { dropPrefix, SIM_NOW, type TempDir, tempDir, testConfig, waitFor } from './helpers.ts';

const redisUrl = inject('redisUrl');
let sim: Simulator;
let tmp: TempDir;

beforeAll(async () => {
  sim = await startSimulator({ seed: 4, jobs: 100, days: 3, now: SIM_NOW });
  tmp = tempDir();
});

afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

it('429: the queue waits out Retry-After, then the job runs again without spending an attempt', async () => {
  // No client retries: the 429 reaches the worker, which must pause the queue itself.
  const config = testConfig({ redisUrl, sim, dbPath: tmp.dbPath }, { maxRetries: 0 });
  const worker = await startWorker({
    config,
    mirror: tmp.open(),
    now: () => sim.clock.now(),
    schedulers: false,
    events: false,
  });
  try {
    sim.faults.set({ retryAfterSeconds: 1, sequence: ['http429'] });
    await enqueueBackfill(worker.queue, { from: '2026-10-31', to: '2026-10-31' });
    await waitFor(
      'the window job to complete',
      async () => (await worker.queue.getJobState('window-2026-10-31')) === 'completed',
    );
    const job = await worker.queue.getJob('window-2026-10-31');
    if (!job) throw new Error('window job vanished');
    expect(job.attemptsMade).toBe(1); // the successful one: the rate-limited start was not an attempt
    const lists = sim.stats.requests.filter((r) => r.route === 'list');
    expect(lists[0]?.status).toBe(429);
    expect(lists.slice(1).every((r) => r.status === 200)).toBe(true);
    // Nothing was sent before the server's Retry-After had passed.
    expect(sim.stats.requests.filter((r) => r.earlyRetry || r.duringRetryAfter)).toEqual([]);
    expect((await worker.queue.getJobCounts('failed')).failed).toBe(0);
  } finally {
    await worker.close();
    await dropPrefix(redisUrl, config.queuePrefix);
  }
});

it('every Retry-After form pauses the queue, then the job runs again (0, a past date, fractions, garbage, retry-after-ms)', async () => {
  const config = testConfig({ redisUrl, sim, dbPath: tmp.dbPath }, { maxRetries: 0 });
  const worker = await startWorker({
    config,
    mirror: tmp.open(),
    now: () => sim.clock.now(),
    schedulers: false,
    events: false,
  });
  const forms: Record<string, string>[] = [
    { 'retry-after': '0' },
    { 'retry-after': 'Sun, 01 Nov 2026 11:00:00 GMT' },
    { 'retry-after': '0.25' },
    { 'retry-after-ms': '0.5' },
    { 'retry-after': 'later, maybe' },
  ];
  try {
    for (const [i, headers] of forms.entries()) {
      sim.stats.reset();
      sim.faults.set({ retryAfterHeaders: headers, sequence: ['http429'] });
      const day = `2026-10-2${i}`;
      await enqueueBackfill(worker.queue, { from: day, to: day });
      await waitFor(
        `the window job of ${JSON.stringify(headers)} to complete`,
        async () => (await worker.queue.getJobState(`window-${day}`)) === 'completed',
      );
      const job = await worker.queue.getJob(`window-${day}`);
      expect({ headers, attempts: job?.attemptsMade }).toEqual({ headers, attempts: 1 });
      const lists = sim.stats.requests.filter((r) => r.route === 'list');
      expect(lists.map((r) => r.status)).toEqual([429, 200]);
      // Paused at least the floor (the client's minRetryDelayMs, 500 ms by default).
      expect((lists[1]?.at ?? 0) - (lists[0]?.at ?? 0)).toBeGreaterThanOrEqual(495);
    }
    expect((await worker.queue.getJobCounts('failed')).failed).toBe(0);
  } finally {
    await worker.close();
    await dropPrefix(redisUrl, config.queuePrefix);
  }
}, 60_000);
