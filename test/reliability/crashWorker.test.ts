/**
 * Crash safety of `retab-mirror worker`: SIGKILLed in the middle of its scheduled runs (RELIABILITY_TRIALS / 5
 * times, at least once), restarted on the same Redis, stopped with SIGTERM. A clean `sync --reconcile` then
 * converges: the mirror equals upstream, the outbox is exact, the file intact.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import {
  assertConverged,
  assertCrashConsistent,
  BUSY_RATES,
  type CliChild,
  cliEnv,
  dropPrefix,
  onArrival,
  query,
  runCli,
  seeded,
  spawnCli,
  type TempDir,
  tempDir,
  trials,
  uniquePrefix,
  waitFor,
} from './helpers.ts';

const TRIALS = trials();
const SEED = 20_261_102;
const redisUrl = inject('redisUrl');

describe('crash safety of the worker', () => {
  let sim: Simulator;
  let tmp: TempDir;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    sim = await startSimulator({
      seed: SEED,
      jobs: 300,
      days: 3,
      now: Date.now() - 4 * 3600_000,
      rates: BUSY_RATES,
    });
    tmp = tempDir();
  });
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
    await dropPrefix(redisUrl, prefix);
  });

  it(
    'worker SIGKILLed mid-run, restarted, stopped with SIGTERM: a clean sync converges',
    async () => {
      const rng = seeded(SEED);
      const env = cliEnv(sim, tmp.dbPath, {
        PAGE_SIZE: '20',
        BACKFILL_DAYS: '4',
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        POLL_HEAD_MS: '1000',
        POLL_ACTIVE_MS: '1000',
        POLL_HYDRATE_MS: '1000',
        WORKER_CONCURRENCY: '2',
        RATE_LIMIT_RPS: '500',
      });
      const kills = Math.max(1, Math.floor(TRIALS / 5));
      for (let k = 0; k < kills; k++) {
        const target = rng.int(3, 30);
        let seen = 0;
        let worker: CliChild | undefined;
        const unhook = onArrival(sim, () => {
          seen++;
          if (seen % 3 === 0) sim.clock.advance(5_000);
          if (seen === target) setTimeout(() => worker?.child.kill('SIGKILL'), rng.int(0, 40));
        });
        try {
          worker = spawnCli(['worker'], env);
          const result = await worker.exited;
          expect(result.signal, result.stderr).toBe('SIGKILL');
        } finally {
          unhook();
        }
        assertCrashConsistent(tmp.dbPath, `worker kill ${k} at request ${target}`);
        sim.clock.advance(rng.int(10_000, 60_000));
      }

      // Restarted on the same Redis: it picks up, runs its schedule, and stops gracefully on SIGTERM.
      let seen = 0;
      const unhook = onArrival(sim, () => {
        seen++;
        if (seen % 3 === 0) sim.clock.advance(5_000);
      });
      const worker = spawnCli(['worker'], env);
      try {
        await waitFor(
          'the restarted worker to complete a head and an active run',
          () =>
            query<{ n: number }>(
              tmp.dbPath,
              "SELECT count(DISTINCT task) AS n FROM sync_runs WHERE outcome = 'success' AND task IN ('head', 'active')",
            )[0]?.n === 2 && seen > 10,
          30_000,
          100,
        );
      } finally {
        unhook();
        worker.child.kill('SIGTERM');
      }
      const stopped = await worker.exited;
      expect(stopped.code, stopped.stderr).toBe(0);

      sim.clock.advance(30_000);
      const final = await runCli(['sync', '--no-progress', '--backfill-days', '3', '--reconcile'], env);
      expect(final.code, final.stderr).toBe(0);
      assertConverged(sim, tmp.dbPath);
    },
    60_000 + Math.max(1, Math.floor(TRIALS / 5)) * 15_000,
  );
});
