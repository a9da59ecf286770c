/** A rejected API key fails each job once, unrecoverably, with one log line that says what to fix. */
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startWorker } from '../../src/queue/worker.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { captureLogs, dropPrefix, SIM_NOW, type TempDir, tempDir, testConfig, waitFor } from './helpers.ts';

const redisUrl = inject('redisUrl');
let sim: Simulator;
let tmp: TempDir;

beforeAll(async () => {
  sim = await startSimulator({ seed: 2, jobs: 30, days: 2, now: SIM_NOW, apiKey: 'sk-the-right-key' });
  tmp = tempDir();
});

afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

it('401: jobs fail once each (no retries), the fix is logged once, upstream is not hammered', async () => {
  const config = testConfig(
    { redisUrl, sim, dbPath: tmp.dbPath },
    { apiKey: 'sk-a-wrong-key', headEveryMs: 300, activeEveryMs: 200, hydrateEveryMs: 500 },
  );
  const logs = captureLogs('debug');
  const worker = await startWorker({
    config,
    mirror: tmp.open(),
    logger: logs.logger,
    now: () => sim.clock.now(),
    events: false,
  });
  try {
    await waitFor(
      'a dozen failed runs',
      async () => ((await worker.queue.getJobCounts('failed')).failed ?? 0) >= 12,
      { timeoutMs: 20_000 },
    );
    const failed = await worker.queue.getJobs(['failed']);
    for (const job of failed) {
      expect(job.opts.attempts).toBeGreaterThan(1); // retries were allowed…
      expect(job.attemptsMade).toBe(1); // …and not used
      expect(job.failedReason).toContain('RETAB_API_KEY');
    }
    expect(await worker.queue.getJobCounts('delayed', 'waiting')).not.toMatchObject({
      delayed: 0,
      waiting: 0,
    }); // still scheduled

    const fixLines = logs.lines.filter(
      (l) =>
        typeof l.msg === 'string' &&
        l.msg.startsWith('upstream rejected the API key (401): set RETAB_API_KEY'),
    );
    expect(fixLines.filter((l) => (l.level as number) >= 50)).toHaveLength(1);
    // The sync engine's own record of the one failed run, plus the fix: nothing per tick.
    expect(logs.lines.filter((l) => (l.level as number) >= 50)).toHaveLength(2);
    // Until upstream has answered once, one task at a time reaches it: a bad key costs one request in all.
    const rejected = sim.stats.count((r) => r.status === 401);
    expect(rejected).toBeGreaterThan(0);
    expect(rejected).toBe(1); // the probe; the tasks queued behind it failed without a request
    expect(JSON.stringify(logs.lines)).not.toContain('sk-a-wrong-key');
  } finally {
    await worker.close();
    await dropPrefix(redisUrl, config.queuePrefix);
  }
});
