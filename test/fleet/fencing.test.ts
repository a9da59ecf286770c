/**
 * Fencing across real worker processes: `retab-mirror worker` A is frozen with SIGSTOP in the middle of a head
 * walk, its page write already inside a PostgreSQL transaction, and stays frozen past its lease TTL while
 * worker B takes the partition over and commits. Then SIGCONT: A's late write is refused by fencing (one warn
 * line), no checkpoint ever moves backwards, and after a quiet period the mirror equals upstream.
 *
 * How the freeze lands inside A's write, deterministically: the test holds the job locks every page write
 * takes (src/mirror/pg/locks.ts) until A's write waits on them, freezes A, then lets go: A's transaction gets
 * its locks and sits idle until SIGCONT, past its fence check's point of no return (the wrapper's lost-lease
 * check already passed), exactly like a process paused by a long GC in the middle of a commit.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { openStore } from '../../src/mirror/index.ts';
import { LOCK_CLASS_JOB } from '../../src/mirror/pg/locks.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import {
  type CliChild,
  cliEnv,
  dropPrefix,
  sleep,
  spawnCli,
  uniquePrefix,
  waitFor,
} from '../reliability/helpers.ts';

const redisUrl = inject('redisUrl');
const TTL_MS = 2000;

interface Checkpoint {
  partition: string;
  watermark: number | null;
  fence: number;
  pages: number;
}

let sampling = false;
let db: TestDatabase;
let sim: Simulator;
let pool: pg.Pool;
const prefix = uniquePrefix();
const children: CliChild[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await (await openStore(db.url)).close(); // the schema, before the test reads it
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
  sim = await startSimulator({
    seed: 22,
    jobs: 150,
    days: 1,
    now: Date.now() - 3600_000,
    rates: { arrivalsPerMinute: 90, retriesPerMinute: 0 },
  });
});
afterAll(async () => {
  sampling = false;
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  await pool?.end();
  await sim?.close();
  await db?.drop();
  await dropPrefix(redisUrl, prefix);
});

const checkpoints = async () =>
  (
    await pool.query<Checkpoint>(
      'SELECT partition, watermark::float8 AS watermark, fence::float8 AS fence, pages FROM sync_state',
    )
  ).rows;

/** Job ids whose mirrored status differs from the simulator's (missing ones included). */
async function diffFromUpstream(): Promise<string[]> {
  const rows = (await pool.query<{ id: string; status: string }>('SELECT id, status FROM jobs')).rows;
  const mirrored = new Map(rows.map((r) => [r.id, r.status]));
  return sim.store
    .all()
    .filter((j) => mirrored.get(j.id) !== j.status)
    .map((j) => `${j.id}: ${mirrored.get(j.id)} vs ${j.status}`);
}

it('a worker frozen past its lease TTL cannot write over the worker that took its partition over', async () => {
  const env = cliEnv(sim, db.url, {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    LEASE_TTL_MS: String(TTL_MS),
    PAGE_SIZE: '5',
    BACKFILL_DAYS: '2',
    POLL_HEAD_MS: '1000',
    POLL_ACTIVE_MS: '3000',
    POLL_HYDRATE_MS: '600000',
    WORKER_CONCURRENCY: '2',
    RATE_LIMIT_RPS: '500',
    EVENTS_QUEUE_ENABLED: 'false',
  });
  // Every checkpoint over time, per partition: none may move backwards.
  const regressions: string[] = [];
  const last = new Map<string, Checkpoint>();
  sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const c of await checkpoints()) {
        const before = last.get(c.partition);
        if (before && (c.watermark ?? 0) < (before.watermark ?? 0))
          regressions.push(`${c.partition} watermark ${before.watermark} -> ${c.watermark}`);
        if (before && c.fence < before.fence)
          regressions.push(`${c.partition} fence ${before.fence} -> ${c.fence}`);
        if (before && c.pages < before.pages)
          regressions.push(`${c.partition} pages ${before.pages} -> ${c.pages}`);
        last.set(c.partition, c);
      }
      await sleep(100);
    }
  })().catch((err: Error) => regressions.push(`sampler: ${err.message}`));

  const a = spawnCli(['worker'], env);
  children.push(a);
  await waitFor(
    'worker A to finish its first head run and the start-up reconcile',
    async () =>
      (await pool.query("SELECT 1 FROM sync_state WHERE partition = 'head' AND status = 'done'")).rowCount ===
        1 && (await pool.query("SELECT 1 FROM sync_runs WHERE outcome = 'running'")).rowCount === 0,
    30_000,
    100,
  );

  // New jobs upstream, served slowly: A's next head tick walks them page by page.
  sim.clock.advance(60_000);
  sim.faults.set({ probabilities: { slow: 1 }, slowMs: 250, routes: ['list'] });
  const headPages = async () =>
    Number((await pool.query("SELECT pages FROM sync_state WHERE partition = 'head'")).rows[0]?.pages);
  const pagesBefore = await headPages();
  await waitFor(
    'A to commit a page of the new head walk',
    async () => (await headPages()) > pagesBefore,
    20_000,
    20,
  );

  // Hold every job's lock: A's next page write waits inside its transaction. Freeze A there.
  const holder = await pool.connect();
  await holder.query('BEGIN');
  await holder.query(
    `SELECT count(pg_advisory_xact_lock($1, k)) FROM
      (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::text[]) AS id ORDER BY k) AS keys`,
    [LOCK_CLASS_JOB, sim.store.all().map((j) => j.id)],
  );
  await waitFor(
    "A's page write to wait for a job lock",
    async () =>
      ((
        await pool.query(
          "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::oid",
          [LOCK_CLASS_JOB],
        )
      ).rowCount ?? 0) > 0,
    10_000,
    20,
  );
  a.child.kill('SIGSTOP');
  const frozenAt = Date.now();
  const frozen = (await checkpoints()).find((c) => c.partition === 'head') as Checkpoint;
  await holder.query('ROLLBACK'); // A's backend now takes its page's locks; A cannot go on: it is stopped
  holder.release();

  // B takes the partition over once A's lease has lapsed, and commits.
  const b = spawnCli(['worker'], env);
  children.push(b);
  await waitFor(
    'worker B to take head over and commit a page',
    async () => {
      const head = (await checkpoints()).find((c) => c.partition === 'head');
      return head !== undefined && head.fence > frozen.fence && head.pages > frozen.pages;
    },
    30_000,
    50,
  );
  // Not before the lease lapsed: its last renewal came at most a third of the TTL before the freeze.
  expect(Date.now() - frozenAt).toBeGreaterThanOrEqual((TTL_MS * 2) / 3);

  a.child.kill('SIGCONT');
  await waitFor(
    "A's late write to be refused by fencing",
    () => /fencing token \d+ is stale/.test(a.stdout + a.stderr),
    20_000,
    50,
  );
  const refused = `${a.stdout}${a.stderr}`.split('\n').filter((l) => /fencing token \d+ is stale/.test(l));
  expect(refused).toHaveLength(1);
  expect(refused[0]).toMatch(
    /write to partition head refused: fencing token \d+ is stale \(the mirror holds \d+\)/,
  );

  // Quiet period: no new jobs, no faults; both workers keep running their schedule.
  sim.faults.clear();
  await waitFor(
    'the mirror to equal upstream',
    async () => (await diffFromUpstream()).length === 0,
    30_000,
    250,
  );
  sampling = false;
  await sampler;
  expect(regressions).toEqual([]);

  for (const w of [a, b]) w.child.kill('SIGTERM');
  for (const w of [a, b]) {
    const r = await w.exited;
    expect(r.code, r.stderr).toBe(0);
  }
  // Neither worker crashed nor retried in a loop: A's refused run is its only fenced line, and it kept working.
  expect(`${a.stdout}${a.stderr}`).not.toMatch(/failed, will retry|failed after/);
}, 90_000);
