/**
 * Redis trouble for the scheduled mirror: unreachable at start (the real `worker` command) and flushed. The
 * worker must say what is wrong, keep retrying without crash-looping, stop cleanly on SIGTERM, and recover
 * its schedule and convergence. (A restart mid-run is test/queue/redisRestart.test.ts.)
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { type Mirror, openMirror } from '../../src/mirror/openMirror.ts';
import { type RunningWorker, startWorker } from '../../src/queue/worker.ts';
import { isTerminal, type JobStatus } from '../../src/retab/schemas.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import {
  cliEnv,
  dropPrefix,
  freePort,
  integrity,
  outboxProblems,
  query,
  STACK_LINE,
  spawnCli,
  startRedisServer,
  type TempDir,
  tempDir,
  uniquePrefix,
  waitFor,
} from './helpers.ts';

/**
 * What the schedule (head + active sweeps) guarantees without a reconcile: every upstream job is mirrored,
 * and every job that is in flight on either side has the same status on both. (A retry cycle that starts
 * and ends between two sweeps, terminal → terminal, is the hourly reconcile's to catch.)
 */
function scheduleDiff(sim: Simulator, mirror: Mirror): string[] {
  const rows = mirror.sqlite.prepare('SELECT id, status FROM jobs').all() as {
    id: string;
    status: JobStatus;
  }[];
  const mirrored = new Map(rows.map((r) => [r.id, r.status]));
  const diff: string[] = [];
  for (const job of sim.store.all()) {
    const status = mirrored.get(job.id);
    if (status === undefined) diff.push(`${job.id}: missing`);
    else if (status !== job.status && !(isTerminal(status) && isTerminal(job.status)))
      diff.push(`${job.id}: ${status} vs ${job.status}`);
  }
  return diff;
}

describe('Redis unreachable at start', () => {
  it('the worker names REDIS_URL, retries with backoff, does not exit, and stops with SIGTERM (exit 0)', async () => {
    const tmp = tempDir();
    try {
      const port = await freePort(); // nothing listens there
      const worker = spawnCli(
        ['worker'],
        cliEnv({ url: 'http://127.0.0.1:9/v1', apiKey: 'sk-test-no-upstream-needed' }, tmp.dbPath, {
          REDIS_URL: `redis://127.0.0.1:${port}`,
          QUEUE_PREFIX: uniquePrefix(),
        }),
      );
      const retries = () =>
        worker.stderr
          .split('\n')
          .filter((l) => l.includes('Redis'))
          .map((l) => JSON.parse(l) as { msg: string; nextRetryMs?: number });
      await waitFor('two reconnect attempts reported', () => retries().length >= 2, 30_000, 100);
      expect(worker.child.exitCode).toBeNull(); // still running: no crash loop
      const lines = retries();
      expect(lines[0]?.msg).toContain('REDIS_URL');
      expect(lines[0]?.msg).toContain(`127.0.0.1:${port}`);
      const delays = lines.map((l) => l.nextRetryMs ?? 0);
      expect(delays[1]).toBeGreaterThan(delays[0] ?? 0); // backing off, not hammering
      expect(worker.stderr).not.toMatch(STACK_LINE);
      expect(worker.stderr).not.toContain('"stack"');
      // One warning per retry: the events queue's own connection errors do not repeat the cause.
      expect(worker.stderr).not.toContain('events queue error');

      worker.child.kill('SIGTERM');
      const result = await worker.exited;
      expect(result.code, result.stderr).toBe(0);
    } finally {
      tmp.cleanup();
    }
  });
});

// Redis restarted mid-run (comes back empty): test/queue/redisRestart.test.ts.
describe('Redis flushed under a running worker', () => {
  let sim: Simulator;
  let tmp: TempDir;
  let mirror: Mirror;
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let port: number;
  let config: Config;
  let evolve: NodeJS.Timeout | undefined;
  const workers: RunningWorker[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ seed: 808, jobs: 200, days: 2, now: Date.parse('2026-11-01T12:00:00Z') });
    tmp = tempDir();
    mirror = openMirror(tmp.dbPath);
    port = await freePort();
    redis = await startRedisServer(port);
    config = {
      ...loadConfig({ env: {}, dotenvFile: false }),
      apiKey: sim.apiKey,
      baseUrl: sim.url,
      dbPath: tmp.dbPath,
      redisUrl: redis.url,
      queuePrefix: uniquePrefix(),
      maxRetries: 2,
      requestTimeoutMs: 5000,
      backfillDays: 3,
      pageSize: 50,
      rateLimitPerSecond: 200,
      headEveryMs: 300,
      activeEveryMs: 300,
      hydrateEveryMs: 500,
    };
  });
  afterAll(async () => {
    clearInterval(evolve);
    for (const w of workers) await w.close();
    mirror.close();
    await dropPrefix(redis.url, config.queuePrefix);
    await redis.stop();
    await sim.close();
    tmp.cleanup();
  });

  const start = async () => {
    const w = await startWorker({
      config,
      mirror,
      now: () => sim.clock.now(),
      logger: createLogger({ level: 'silent' }),
      redisRetry: { minDelayMs: 100, maxDelayMs: 400 },
      closeTimeoutMs: 3000,
    });
    workers.push(w);
    return w;
  };
  const lastRunId = () =>
    query<{ id: number | null }>(tmp.dbPath, 'SELECT max(id) AS id FROM sync_runs')[0]?.id ?? 0;
  const successesAfter = (id: number) =>
    query<{ task: string }>(
      tmp.dbPath,
      "SELECT DISTINCT task FROM sync_runs WHERE outcome = 'success' AND id > ?",
      id,
    ).map((r) => r.task);
  const converged = () => {
    const diff = scheduleDiff(sim, mirror);
    return diff.length === 0 ? true : undefined;
  };

  it('flushed: the schedulers are recreated on the next start, and scheduled runs resume', async () => {
    const running = await start();
    const planned = (await running.queue.getJobSchedulers()).length;
    expect(planned).toBeGreaterThanOrEqual(5); // head, active × 3, hydrate, reconcile
    evolve = setInterval(() => sim.clock.advance(1000), 100);
    await waitFor('scheduled runs before the flush', () => successesAfter(0).length >= 3, 20_000);
    clearInterval(evolve);
    workers.pop();
    const flusher = new Redis(redis.url);
    try {
      await flusher.flushall();
    } finally {
      flusher.disconnect();
    }
    expect(await running.queue.getJobSchedulers()).toEqual([]);
    await running.close();

    sim.clock.advance(60_000);
    const beforeStart = lastRunId();
    const worker = await start();
    expect((await worker.queue.getJobSchedulers()).length).toBe(planned);
    await waitFor('head and active runs after the restart', () => {
      const tasks = successesAfter(beforeStart);
      return tasks.includes('head') && tasks.includes('active');
    });
    await waitFor('the mirror to converge after the flush', converged, 20_000, 100);
    expect(outboxProblems(tmp.dbPath)).toEqual([]);
    expect(integrity(tmp.dbPath)).toEqual(['ok']);
  });
});
