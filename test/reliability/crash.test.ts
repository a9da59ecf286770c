/**
 * Crash safety of `retab-mirror sync`: SIGKILLed at seeded random moments while upstream keeps changing (the
 * simulator's clock moves between trials and during runs). After one clean `sync --reconcile` the mirror
 * must equal upstream, every transition must have its event exactly once, and the file must be intact.
 * RELIABILITY_TRIALS (default 5) sets the number of killed runs. The worker's case: crashWorker.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import {
  assertConverged,
  assertCrashConsistent,
  BUSY_RATES,
  type CliChild,
  cliEnv,
  onArrival,
  query,
  runCli,
  seeded,
  spawnCli,
  type TempDir,
  tempDir,
  trials,
} from './helpers.ts';

const TRIALS = trials();
const SEED = 20_261_101;
// Each trial is a CLI process start and a partial sync: give the long run (RELIABILITY_TRIALS=20) its time.

describe('crash safety', () => {
  let sim: Simulator;
  let tmp: TempDir;

  beforeAll(async () => {
    // Upstream time runs a few hours behind the wall clock, as a real upstream's jobs never come from the future.
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
  });

  it(
    `sync SIGKILLed at ${TRIALS} random moments, then one clean run: mirror equals upstream, events exact`,
    async () => {
      const rng = seeded(SEED);
      const env = cliEnv(sim, tmp.dbPath, { PAGE_SIZE: '20', BACKFILL_DAYS: '4', RATE_LIMIT_RPS: '500' });
      const flagSets = [['--backfill-days', '3'], ['--reconcile'], []];
      let lastRequests = 40;
      let killed = 0;
      for (let trial = 0; trial < TRIALS; trial++) {
        sim.clock.advance(rng.int(20_000, 180_000));
        const target = rng.int(1, Math.max(2, lastRequests));
        const delayMs = rng.int(0, 40);
        let seen = 0;
        let run: CliChild | undefined;
        const unhook = onArrival(sim, () => {
          seen++;
          // Upstream keeps moving while the sync walks: new jobs, transitions, retries between two pages.
          if (seen % 4 === 0) sim.clock.advance(3_000);
          if (seen === target) setTimeout(() => run?.child.kill('SIGKILL'), delayMs);
        });
        try {
          run = spawnCli(['sync', '--no-progress', ...rng.pick(flagSets)], env);
          const result = await run.exited;
          if (result.signal === 'SIGKILL') killed++;
          else {
            // The run finished before its kill point: it must have finished cleanly.
            expect(result.stderr, `trial ${trial}`).toBe('');
            expect(result.code, `trial ${trial}: ${result.stdout}`).toBe(0);
            lastRequests = seen;
          }
        } finally {
          unhook();
        }
        assertCrashConsistent(tmp.dbPath, `trial ${trial} (killed at request ${target} + ${delayMs} ms)`);
      }
      // Most trials must really have died mid-run, or this proves nothing.
      expect(killed).toBeGreaterThanOrEqual(Math.ceil(TRIALS / 2));

      sim.clock.advance(30_000);
      const final = await runCli(['sync', '--no-progress', '--backfill-days', '3', '--reconcile'], env);
      expect(final.code, final.stderr).toBe(0);
      expect(final.stdout).toContain('sync complete');
      assertConverged(sim, tmp.dbPath);
      // The history really moved: retry cycles happened and were mirrored as events.
      const retried = query<{ n: number }>(
        tmp.dbPath,
        "SELECT count(*) AS n FROM job_events WHERE type = 'job.status_changed' AND to_status = 'queued' AND from_status IN ('failed', 'cancelled', 'expired')",
      );
      expect(retried[0]?.n).toBeGreaterThan(0);
    },
    60_000 + TRIALS * 10_000,
  );
});
