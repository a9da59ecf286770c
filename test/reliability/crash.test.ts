/**
 * Crash safety: `retab-mirror sync` and `retab-mirror worker` are SIGKILLed at seeded random moments while
 * upstream keeps changing (the simulator's clock moves between trials and during runs). After one clean
 * `sync --reconcile` the mirror must equal upstream, every transition must have its event exactly once, and
 * the file must be intact. RELIABILITY_TRIALS (default 5) sets the number of killed sync runs.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import {
  type CliChild,
  cliEnv,
  dropPrefix,
  integrity,
  onArrival,
  outboxProblems,
  query,
  runCli,
  seeded,
  spawnCli,
  type TempDir,
  tempDir,
  trials,
  truthDiff,
  uniquePrefix,
  waitFor,
} from './helpers.ts';

const TRIALS = trials();
const SEED = 20_261_101;
const redisUrl = inject('redisUrl');

/** Upstream that moves a lot: frequent retries make terminal-is-not-final cycles common. */
const RATES = { arrivalsPerMinute: 15, retriesPerMinute: 8, failureRate: 0.15, cancelRate: 0.05 };

/** Invariants that must hold after any kill, before anything repairs the file. */
function assertCrashConsistent(dbPath: string, label: string) {
  expect(integrity(dbPath), `${label}: integrity_check`).toEqual(['ok']);
  // A checkpoint commits with its page: a stored cursor always names a job the mirror holds.
  const dangling = query<{ partition: string; cursor: string }>(
    dbPath,
    `SELECT partition, cursor FROM sync_state
     WHERE cursor IS NOT NULL AND cursor NOT IN (SELECT id FROM jobs)`,
  );
  expect(dangling, `${label}: cursors without their page`).toEqual([]);
  // Events commit with their rows: no event for a job that is not stored.
  const orphans = query(dbPath, 'SELECT seq FROM job_events WHERE job_id NOT IN (SELECT id FROM jobs)');
  expect(orphans, `${label}: events without their job`).toEqual([]);
}

function assertConverged(sim: Simulator, dbPath: string) {
  expect(truthDiff(sim, dbPath)).toEqual([]);
  expect(outboxProblems(dbPath)).toEqual([]);
  expect(integrity(dbPath)).toEqual(['ok']);
}

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
      rates: RATES,
    });
    tmp = tempDir();
  });
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
  });

  it(`sync SIGKILLed at ${TRIALS} random moments, then one clean run: mirror equals upstream, events exact`, async () => {
    const rng = seeded(SEED);
    const env = cliEnv(sim, tmp.dbPath, { PAGE_SIZE: '20', BACKFILL_DAYS: '4' });
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
  });
});

describe('crash safety of the worker', () => {
  let sim: Simulator;
  let tmp: TempDir;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    sim = await startSimulator({
      seed: SEED + 1,
      jobs: 300,
      days: 3,
      now: Date.now() - 4 * 3600_000,
      rates: RATES,
    });
    tmp = tempDir();
  });
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
    await dropPrefix(redisUrl, prefix);
  });

  it('worker SIGKILLed mid-run, restarted, stopped with SIGTERM: a clean sync converges', async () => {
    const rng = seeded(SEED + 1);
    const env = cliEnv(sim, tmp.dbPath, {
      PAGE_SIZE: '20',
      BACKFILL_DAYS: '4',
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      POLL_HEAD_MS: '1000',
      POLL_ACTIVE_MS: '1000',
      POLL_HYDRATE_MS: '1000',
      WORKER_CONCURRENCY: '2',
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
  });
});
