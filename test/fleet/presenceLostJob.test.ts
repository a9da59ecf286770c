/**
 * Breaker #22: a worker's presence must stop listing a task once that task's run has ended, also when the
 * run ended without BullMQ's 'completed'/'failed' event: a run whose job lock was lost meanwhile (the worker
 * was frozen past BullMQ's lock, SIGSTOP/GC/network split, and the stalled check handed the job to another
 * worker that finished it) cannot be moved to completed ("Missing lock/key for job"), so BullMQ emits only
 * 'error'. Seen by hand: a worker SIGSTOPped ~36 s during 4 backfill windows, then SIGCONT: its 4 windows
 * aborted ("aborted; checkpoint kept"), were finished by the others, and `retab-mirror status` went on
 * showing that worker as "4/4 window:…" for as long as it lived.
 *
 * Deterministic here: one worker runs its first scheduled ticks against a slow upstream; the test takes the
 * jobs away under it (their lock and their key, as another worker finishing them would leave them), lets
 * upstream answer, and waits for the worker to report nothing running.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { collectStatus } from '../../src/queue/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import { dropPrefix, SIM_NOW, waitFor } from '../queue/helpers.ts';
import { type CliChild, cliEnv, spawnCli, uniquePrefix } from '../reliability/helpers.ts';

const redisUrl = inject('redisUrl');
const prefix = uniquePrefix();
let sim: Simulator;
let db: TestDatabase;
let redis: Redis;
let worker: CliChild | undefined;

beforeAll(async () => {
  sim = await startSimulator({ seed: 12, jobs: 60, days: 2, now: SIM_NOW });
  db = await createTestDatabase();
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  worker?.child.kill('SIGKILL');
  redis.disconnect();
  await sim.close();
  await db.drop();
  await dropPrefix(redisUrl, prefix);
});

const running = async (pid: number | undefined) => {
  const r = await collectStatus({ config: { dbPath: db.url, redisUrl, queuePrefix: prefix } });
  return r.fleet?.workers.find((w) => w.pid === pid)?.running;
};

it('a run whose job was taken away under it leaves the worker presence once it ends', async () => {
  sim.faults.set({ probabilities: { slow: 1 }, slowMs: 2500 });
  worker = spawnCli(
    ['worker'],
    cliEnv(sim, db.url, {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'info',
      // Only the first tick of each scheduler runs during the test.
      POLL_ACTIVE_MS: '3600000',
      POLL_HEAD_MS: '3600000',
      POLL_HYDRATE_MS: '3600000',
    }),
    { timeoutMs: 90_000 },
  );
  const w = worker;
  await waitFor('the worker to start', () => w.stdout.includes('worker started'), { timeoutMs: 30_000 });
  const busy = await waitFor('the worker to report running tasks', async () => {
    const r = await running(w.child.pid);
    return r && r.length > 0 && r;
  });
  expect(busy.length).toBeGreaterThan(0);

  // Another worker "took and finished" every active job: its lock and its key are gone.
  const queue = new Queue('sync', { connection: redis, prefix });
  const active = await queue.getActive();
  expect(active.length).toBeGreaterThan(0);
  for (const job of active) {
    await redis.del(`${prefix}:sync:${job.id}:lock`);
    await redis.lrem(`${prefix}:sync:active`, 0, job.id ?? '');
    await redis.del(`${prefix}:sync:${job.id}`);
  }
  await queue.close();
  sim.faults.clear();

  // Each run ends within a few slow answers; the worker then runs nothing (no tick is due for an hour).
  const idle = await waitFor(
    'the worker to report nothing running after its runs ended',
    async () => {
      const r = await running(w.child.pid);
      return r && r.length === 0 && r;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}; still listed: ${JSON.stringify(await running(w.child.pid))}`);
  });
  expect(idle).toEqual([]);

  w.child.kill('SIGTERM');
  const stopped = await w.exited;
  expect(stopped.code, stopped.stderr).toBe(0);
}, 120_000);
