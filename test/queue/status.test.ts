/** `status`: schedule and queue from Redis, runs and lag from the mirror; the mirror half works without Redis. */
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { formatStatus } from '../../src/cli/statusCommand.ts';
import { collectStatus } from '../../src/queue/status.ts';
import { startWorker } from '../../src/queue/worker.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { dropPrefix, type TempDir, tempDir, testConfig, waitFor } from './helpers.ts';

const redisUrl = inject('redisUrl');
let sim: Simulator;
let tmp: TempDir;

beforeAll(async () => {
  sim = await startSimulator({ seed: 6, jobs: 60, days: 2 }); // on the wall clock, like status
  tmp = tempDir();
});

afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

it('reports schedulers, queue depth, last runs and sync lag; without Redis, still the runs', async () => {
  const config = testConfig({ redisUrl, sim, dbPath: tmp.dbPath });
  const mirror = tmp.open();
  const worker = await startWorker({ config, mirror, events: false });
  try {
    await waitFor('a first successful active sweep', () =>
      mirror.sqlite
        .prepare("SELECT 1 FROM sync_runs WHERE task = 'active' AND outcome = 'success' LIMIT 1")
        .get(),
    );
    const running = await collectStatus({ config });
    expect(running.workers).toBe(1);
    expect(formatStatus(running)).toContain('Workers     1 running');
    // Its requests went through the fleet's rate limiter, which counts them per second in Redis.
    expect(running.fleetRate?.perSecond).toBeGreaterThan(0);
    expect(formatStatus(running)).toMatch(
      /Requests {4}\d+\.\d\/s upstream from the whole fleet over the last 10 s/,
    );
  } finally {
    await worker.close();
  }
  try {
    const report = await collectStatus({ config });
    expect(report.mirror.ok).toBe(true);
    expect(report.redis.reachable).toBe(true);
    expect(report.schedulers?.map((s) => s.id).sort()).toEqual(
      ['active:in_progress', 'active:queued', 'active:validating', 'head', 'hydrate', 'reconcile'].sort(),
    );
    for (const s of report.schedulers ?? []) expect(s.nextRunAt).toBeGreaterThan(0);
    expect(report.queue).toMatchObject({ failed: 0 });
    expect(report.queue?.completed).toBeGreaterThan(0);
    const head = report.runs.find((r) => r.partition === 'head');
    expect(head).toMatchObject({ task: 'head', outcome: 'success' });
    expect(head?.jobs).toBe(60);
    expect(report.syncLagMs).not.toBeNull();
    expect(report.syncLagMs).toBeGreaterThanOrEqual(0);
    // The worker has stopped: status names the prefix it reads and does not promise a next run.
    expect(report.workers).toBe(0);
    const stopped = formatStatus(report);
    expect(stopped).toContain(`Prefix      ${config.queuePrefix} (QUEUE_PREFIX`);
    expect(stopped).toContain('Workers     none running');
    expect(stopped).not.toMatch(/ in \d/); // no "NEXT RUN in 4.9 s"
    expect(stopped).toMatch(/head\s+\S+ (s|min)\s+when a worker starts/);

    const offline = await collectStatus({ config: { ...config, redisUrl: 'redis://127.0.0.1:1' } });
    expect(offline.redis).toMatchObject({ reachable: false });
    expect(offline.redis.error).toContain('REDIS_URL');
    expect(offline.schedulers).toBeUndefined();
    expect(offline.runs).toEqual(report.runs);
    const text = formatStatus(offline);
    expect(text).toContain('unreachable');
    expect(text).toMatch(/head\s+success\s+60/);
  } finally {
    await dropPrefix(redisUrl, config.queuePrefix);
  }
});
