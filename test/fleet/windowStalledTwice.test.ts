/**
 * Breaker #22: a backfill window whose worker dies twice while it runs must still be swept. README, Running a
 * fleet: "When a machine dies … BullMQ's stalled-job check puts its running tasks back in the queue …
 * Nothing mirrored is lost". BullMQ's default `maxStalledCount` is 1: the second stall of the same job moves it
 * to failed ("job stalled more than allowable limit"), and nothing sweeps that day again (`status` shows the
 * window as "running": the run row of the killed process). Seen by hand: 714 jobs of one day missing after
 * two SIGKILLs (a day older than the reconcile horizon would stay missing for good).
 *
 * Slow (about two BullMQ stall checks of 30 s each): runs only with RELIABILITY_TRIALS set.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { openStore } from '../../src/mirror/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import {
  type CliChild,
  cliEnv,
  dropPrefix,
  runCli,
  spawnCli,
  uniquePrefix,
  waitFor,
} from '../reliability/helpers.ts';

const redisUrl = inject('redisUrl');
const prefix = uniquePrefix();
const DAY = '2026-11-20';
let sim: Simulator;
let db: TestDatabase;
let pool: pg.Pool;
const children: CliChild[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await (await openStore(db.url)).close();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  sim = await startSimulator({ seed: 31, jobs: 3000, days: 15, now: Date.parse('2026-12-01T00:00:00Z') });
});
afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  await pool?.end();
  await sim?.close();
  await db?.drop();
  await dropPrefix(redisUrl, prefix);
});

const env = () =>
  cliEnv(sim, db.url, {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    LEASE_TTL_MS: '2000',
    LOG_LEVEL: 'info',
    BACKFILL_DAYS: '1',
    POLL_ACTIVE_MS: '3600000',
    POLL_HEAD_MS: '3600000',
    POLL_HYDRATE_MS: '3600000',
  });

const runsOf = async (partition: string) =>
  (await pool.query<{ id: string }>('SELECT id FROM sync_runs WHERE partition = $1', [partition])).rowCount ??
  0;

async function startWorker(): Promise<CliChild> {
  const w = spawnCli(['worker'], env(), { timeoutMs: 240_000 });
  children.push(w);
  await waitFor('a worker to start', () => w.stdout.includes('worker started'), 30_000);
  return w;
}

it.runIf(process.env.RELIABILITY_TRIALS)(
  'a window whose worker is SIGKILLed twice is still swept to the end',
  async () => {
    // Slow pages: the window is still running at each kill.
    sim.faults.set({ probabilities: { slow: 1 }, slowMs: 1500, routes: ['list'] });
    let w = await startWorker();
    const q = await runCli(['backfill', '--from', DAY, '--to', DAY], env(), { timeoutMs: 30_000 });
    expect(q.code, q.stderr).toBe(0);
    const partition = `window:${DAY}`;
    for (let kill = 1; kill <= 2; kill++) {
      await waitFor(
        `run ${kill} of ${partition}`,
        async () => (await runsOf(partition)) >= kill,
        100_000,
        250,
      );
      w.child.kill('SIGKILL');
      await w.exited;
      w = await startWorker();
    }
    sim.faults.clear();
    const done = await waitFor(
      `${partition} to be swept to the end after two kills`,
      async () => {
        const r = await pool.query<{ status: string }>('SELECT status FROM sync_state WHERE partition = $1', [
          partition,
        ]);
        return r.rows[0]?.status === 'done' && r.rows[0];
      },
      100_000,
      500,
    ).catch(async (err: Error) => {
      const s = await runCli(['status'], env(), { timeoutMs: 30_000 });
      throw new Error(`${err.message}\n${s.stdout}`);
    });
    expect(done.status).toBe('done');
    w.child.kill('SIGTERM');
    expect((await w.exited).code).toBe(0);
  },
  300_000,
);
