/**
 * Fencing across real worker processes: `retab-mirror worker` A is frozen with SIGSTOP in the middle of a head
 * walk and stays frozen past its lease TTL (2 s) while worker B takes the partition over. Then SIGCONT. Three
 * places to be frozen, one case each:
 *
 * a. BETWEEN pages: A waits for its next list page, which the simulator holds (a `slow` answer), and none of
 *    its sessions is in a transaction. A holds no database lock: B brings the mirror up to upstream while A is
 *    still frozen. On SIGCONT A finds its lease lost at once (not renewed for longer than the TTL: the lease's
 *    timer runs before the held answer can arrive): it says so once, its run stops, its late page is never
 *    written (the lost-lease guard in front of the store).
 * b. INSIDE its page transaction: A's backend holds the page's job locks, "idle in transaction", and B's walk
 *    needs the same jobs (it resumes from A's last checkpoint). The server ends A's session after
 *    `idle_in_transaction_session_timeout` (the worker sets it to LEASE_TTL_MS), which frees B within about a
 *    TTL: B brings the mirror up to upstream while A is still frozen. On SIGCONT A's transaction finds its
 *    session gone: nothing of it commits, the run fails once ("failed, will retry"), the pool drops the dead
 *    connection, and A goes on working.
 * c. IN its page write, past the lost-lease guard, waiting for a lock (a statement running, so the session
 *    timeout does not apply): B takes the partition over (a newer fence); on SIGCONT A knows its lease is gone,
 *    but the write is already in flight; when the lock is free its transaction reaches the store's fence
 *    check with a stale token and is refused whole (one warn line, not retried).
 *
 * How the freeze lands inside A's write, deterministically (b, c): the test holds the job locks every page
 * write takes (src/mirror/pg/locks.ts) until A's write waits on them and freezes A; then it lets go before
 * SIGCONT (b: A's transaction gets its locks and sits idle, like a process paused by a long GC in the middle
 * of a commit) or after it (c).
 *
 * Evidence, every case: every write to `sync_state` is audited by two triggers. One (fleetHelpers.ts) records a
 * checkpoint moving backwards; the other records which worker wrote (each worker's sessions carry a
 * `retab.worker` setting, through PGOPTIONS) and checks that no worker's write lands after another worker took
 * a newer fence than the last one it took itself. Then: after a quiet period the mirror equals upstream, and
 * both workers exit 0 on SIGTERM.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, expect, inject, it } from 'vitest';
import { leaseKey } from '../../src/fleet/index.ts';
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
import { installCheckpointAudit, readCheckpointAudit } from './fleetHelpers.ts';

const redisUrl = inject('redisUrl');
const TTL_MS = 2000;
const WRITES = 'fencing_test_writes';

interface World {
  db: TestDatabase;
  sim: Simulator;
  pool: pg.Pool;
  prefix: string;
  env: Record<string, string>;
  children: CliChild[];
  /** The test's own transaction holding job locks, if any (rolled back at teardown). */
  holder?: pg.PoolClient;
}

let world: World | undefined;
afterEach(async () => {
  const w = world;
  world = undefined;
  if (!w) return;
  for (const c of w.children)
    if (c.child.exitCode === null && c.child.signalCode === null) {
      c.child.kill('SIGCONT');
      c.child.kill('SIGKILL');
    }
  if (w.holder) {
    await w.holder.query('ROLLBACK').catch(() => undefined);
    w.holder.release();
  }
  await w.pool.end();
  await w.sim.close();
  await w.db.drop();
  await dropPrefix(redisUrl, w.prefix);
});

/**
 * Who wrote each `sync_state` row, in lock order (writes of one row are serialised by its row lock, so the
 * audit's ids are their commit order). A fence bump (`takeFence`) is a row whose fence grew.
 */
async function installWriterAudit(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE TABLE ${WRITES} (id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(), worker text, partition text NOT NULL,
    old_fence bigint, new_fence bigint NOT NULL, old_pages integer, new_pages integer NOT NULL)`);
  await pool.query(`CREATE FUNCTION ${WRITES}_log() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ${WRITES} (worker, partition, old_fence, new_fence, old_pages, new_pages)
        VALUES (current_setting('retab.worker', true), NEW.partition,
                CASE WHEN TG_OP = 'UPDATE' THEN OLD.fence END, NEW.fence,
                CASE WHEN TG_OP = 'UPDATE' THEN OLD.pages END, NEW.pages);
      RETURN NULL;
    END $$`);
  await pool.query(
    `CREATE TRIGGER ${WRITES} AFTER INSERT OR UPDATE ON sync_state FOR EACH ROW EXECUTE FUNCTION ${WRITES}_log()`,
  );
}

interface Write {
  id: number;
  worker: string | null;
  partition: string;
  old_fence: number | null;
  new_fence: number;
  old_pages: number | null;
  new_pages: number;
}

/**
 * Writes that must not have landed: a worker's write to a partition whose fence is newer than the last one
 * that worker took there (it lost the lease and another took it over), a fence or page count that went back.
 */
function staleWrites(writes: readonly Write[]): string[] {
  const taken = new Map<string, number>(); // `${worker} ${partition}` → the last fence it took
  const out: string[] = [];
  for (const w of writes) {
    const key = `${w.worker} ${w.partition}`;
    const before = w.old_fence ?? 0;
    if (w.new_fence < before) out.push(`#${w.id} ${w.partition}: fence ${before} -> ${w.new_fence}`);
    if (w.old_pages !== null && w.new_pages < w.old_pages)
      out.push(`#${w.id} ${w.partition}: pages ${w.old_pages} -> ${w.new_pages}`);
    if (w.new_fence > before) {
      taken.set(key, w.new_fence);
      continue;
    }
    const mine = taken.get(key);
    // A partition this worker never leased (a write without a token, e.g. at start-up) is not checked.
    if (mine !== undefined && mine < w.new_fence)
      out.push(
        `#${w.id} ${w.partition}: worker ${w.worker} wrote with fence ${mine} over fence ${w.new_fence}`,
      );
  }
  return out;
}

async function readWrites(pool: pg.Pool): Promise<Write[]> {
  return (
    await pool.query<Write>(
      `SELECT id::float8 AS id, worker, partition, old_fence::float8 AS old_fence, new_fence::float8 AS new_fence,
         old_pages, new_pages FROM ${WRITES} ORDER BY id`,
    )
  ).rows;
}

async function startWorld(seed: number): Promise<World> {
  const db = await createTestDatabase();
  await (await openStore(db.url)).close(); // the schema, before the triggers
  await installCheckpointAudit(db.url);
  const pool = new pg.Pool({ connectionString: db.url, max: 3, application_name: 'fencing-test' });
  // `pool.end()` resolves before its connections have closed: the teardown's DROP DATABASE … WITH (FORCE)
  // may end one first (57P01), an error on an idle client that must not fail the file.
  pool.on('error', () => {});
  await installWriterAudit(pool);
  const sim = await startSimulator({
    seed,
    jobs: 150,
    days: 1,
    now: Date.now() - 3600_000,
    rates: { arrivalsPerMinute: 90, retriesPerMinute: 0 },
  });
  const prefix = uniquePrefix();
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
  world = { db, sim, pool, prefix, env, children: [] };
  return world;
}

/** Each worker child's `retab.worker` name, as the writer audit records it. */
const nameOf = new WeakMap<CliChild, string>();

function startWorker(w: World, name: 'a' | 'b', extra: Record<string, string> = {}): CliChild {
  const env = { ...w.env, PGOPTIONS: `-c retab.worker=${name}`, ...extra };
  const c = spawnCli(['worker'], env, { timeoutMs: 120_000 });
  w.children.push(c);
  nameOf.set(c, name);
  return c;
}

const headRow = async (pool: pg.Pool) =>
  (
    await pool.query<{ fence: number; pages: number }>(
      "SELECT fence::float8 AS fence, pages FROM sync_state WHERE partition = 'head'",
    )
  ).rows[0] as { fence: number; pages: number };

/** A's first head walk and the start-up reconcile done: what follows is the steady state. */
async function settled(w: World): Promise<void> {
  await waitFor(
    'worker A to finish its first head run and the start-up reconcile',
    async () =>
      (await w.pool.query("SELECT 1 FROM sync_state WHERE partition = 'head' AND status = 'done'"))
        .rowCount === 1 &&
      (await w.pool.query("SELECT 1 FROM sync_runs WHERE outcome = 'running'")).rowCount === 0,
    30_000,
    100,
  );
}

/** Job ids whose mirrored status differs from the simulator's (missing ones included). */
async function diffFromUpstream(w: World): Promise<string[]> {
  const rows = (await w.pool.query<{ id: string; status: string }>('SELECT id, status FROM jobs')).rows;
  const mirrored = new Map(rows.map((r) => [r.id, r.status]));
  return w.sim.store
    .all()
    .filter((j) => mirrored.get(j.id) !== j.status)
    .map((j) => `${j.id}: ${mirrored.get(j.id)} vs ${j.status}`);
}

const linesOf = (c: CliChild, re: RegExp) => `${c.stdout}${c.stderr}`.split('\n').filter((l) => re.test(l));

/** B takes the partition over once A's lease lapsed, and commits a page with its newer fence. */
async function takenOverBy(w: World, frozen: { fence: number; pages: number }, frozenAt: number) {
  const b = startWorker(w, 'b');
  await waitFor(
    'worker B to take head over and commit a page',
    async () => {
      const head = await headRow(w.pool);
      return head.fence > frozen.fence && head.pages > frozen.pages;
    },
    30_000,
    50,
  );
  // Not before the lease lapsed: its last renewal came at most a third of the TTL before the freeze.
  expect(Date.now() - frozenAt).toBeGreaterThanOrEqual((TTL_MS * 2) / 3);
  return b;
}

/** B alone brings the mirror up to upstream while A is still frozen: a frozen worker does not stall the fleet. */
async function whileFrozen(w: World): Promise<void> {
  await waitFor(
    'B to bring the mirror up to upstream while A is frozen',
    async () => (await diffFromUpstream(w)).length === 0,
    20_000,
    100,
  );
}

/** Quiet period, the audits, and a clean stop of both workers. */
async function quietAndStop(w: World, a: CliChild, b: CliChild): Promise<void> {
  w.sim.faults.clear();
  await waitFor(
    'the mirror to equal upstream',
    async () => (await diffFromUpstream(w)).length === 0,
    30_000,
    250,
  );
  for (const c of [a, b]) c.child.kill('SIGTERM');
  for (const c of [a, b]) {
    const r = await c.exited;
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
  }
  expect(await readCheckpointAudit(w.db.url)).toEqual([]);
  const writes = await readWrites(w.pool);
  // The worker that took over wrote head (with its fence), and no write was stale.
  expect(writes.some((x) => x.worker === nameOf.get(b) && x.partition === 'head')).toBe(true);
  expect(staleWrites(writes)).toEqual([]);
}

/** New jobs upstream, served slowly: A's next head tick walks them page by page; resolves once it committed one. */
async function newHeadWalk(w: World): Promise<void> {
  w.sim.clock.advance(60_000);
  w.sim.faults.set({ probabilities: { slow: 1 }, slowMs: 250, routes: ['list'] });
  const pagesBefore = (await headRow(w.pool)).pages;
  await waitFor(
    'A to commit a page of the new head walk',
    async () => (await headRow(w.pool)).pages > pagesBefore,
    20_000,
    20,
  );
}

/** The backends waiting for a job lock (src/mirror/pg/locks.ts). */
const waitingForJobLocks = async (pool: pg.Pool): Promise<number[]> =>
  (
    await pool.query<{ pid: number }>(
      "SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::oid",
      [LOCK_CLASS_JOB],
    )
  ).rows.map((r) => r.pid);

/**
 * Hold the lock of every job upstream in a transaction of the test's own (`w.holder`; `letGo` ends it), until
 * A's next page write waits for one of them (inside its transaction, past the lost-lease guard in front of
 * the store). Resolves the waiting backend of A.
 */
async function holdJobLocks(w: World): Promise<{ writer: number }> {
  const holder = await w.pool.connect();
  w.holder = holder;
  await holder.query('BEGIN');
  await holder.query(
    `SELECT count(pg_advisory_xact_lock($1, k)) FROM
      (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::text[]) AS id ORDER BY k) AS keys`,
    [LOCK_CLASS_JOB, w.sim.store.all().map((j) => j.id)],
  );
  await waitFor(
    "A's page write to wait for a job lock",
    async () => (await waitingForJobLocks(w.pool)).length > 0,
    10_000,
    20,
  );
  const [writer] = await waitingForJobLocks(w.pool);
  return { writer: writer as number };
}

/** End the test's lock-holding transaction. */
async function letGo(w: World): Promise<void> {
  const holder = w.holder;
  w.holder = undefined;
  await holder?.query('ROLLBACK');
  holder?.release();
}

const LEASE_LOST = /lease of partition head lost/;

it('a: frozen between pages past its TTL, A writes nothing once B took the partition over', async () => {
  const w = await startWorld(22);
  const a = startWorker(w, 'a');
  await settled(w);

  // New jobs upstream, served slowly: A's next head tick walks them page by page.
  await newHeadWalk(w);
  // From now on A's list requests are held 20 s: freeze A once its writer has caught up with the page it asked
  // for last (its head checkpoint is that request's cursor: the walk fetches ahead of its writes) and none of
  // its sessions is inside a transaction (its other tasks' requests are held too).
  const from = w.sim.stats.requests.length;
  w.sim.faults.set({ probabilities: { slow: 1 }, slowMs: 20_000, routes: ['list'] });
  const heldHead = () =>
    w.sim.stats.requests
      .slice(from)
      .find((r) => r.route === 'list' && r.query.order === 'desc' && !r.query.status && r.query.after);
  await waitFor("A's next head page to be asked for", () => heldHead() !== undefined, 10_000, 10);
  const cursor = heldHead()?.query.after;
  await waitFor(
    'A to have written every page it received',
    async () =>
      (await w.pool.query("SELECT 1 FROM sync_state WHERE partition = 'head' AND cursor = $1", [cursor]))
        .rowCount === 1,
    10_000,
    20,
  );
  const inTransaction = async () =>
    (
      await w.pool.query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'retab-mirror' AND datname = current_database() AND xact_start IS NOT NULL",
      )
    ).rowCount ?? 0;
  let frozenAt = 0;
  for (let attempt = 0; frozenAt === 0; attempt++) {
    expect(attempt, 'A never out of a transaction').toBeLessThan(50);
    if ((await inTransaction()) > 0) {
      await sleep(20);
      continue;
    }
    a.child.kill('SIGSTOP');
    if ((await inTransaction()) === 0) frozenAt = Date.now();
    else a.child.kill('SIGCONT'); // a statement began meanwhile: not between pages, try again
  }
  w.sim.faults.clear(); // B's requests are answered at once; A's stay held
  const frozen = await headRow(w.pool);

  const b = await takenOverBy(w, frozen, frozenAt);
  await whileFrozen(w); // A holds no lock: B is never stalled
  a.child.kill('SIGCONT');
  // A sees at once that it lost its lease (no renewal for longer than the TTL): it says so, and stops.
  await waitFor('A to notice its lost lease', () => linesOf(a, LEASE_LOST).length > 0, 10_000, 50);
  expect(linesOf(a, LEASE_LOST)).toHaveLength(1);

  await quietAndStop(w, a, b);
  expect(linesOf(a, /failed, will retry|failed after/)).toEqual([]);
}, 60_000);

it('b: frozen inside its page transaction, A stalls B for about a TTL only and its transaction never commits', async () => {
  const w = await startWorld(23);
  const a = startWorker(w, 'a');
  await settled(w);
  await newHeadWalk(w);

  // Freeze A while its page write waits for the test's locks, then let go: A's backend takes its page's locks
  // and its transaction sits idle, A cannot go on: it is stopped.
  const { writer } = await holdJobLocks(w);
  a.child.kill('SIGSTOP');
  const frozenAt = Date.now();
  const frozen = await headRow(w.pool);
  await letGo(w);
  w.sim.faults.clear();

  // B's head walk reaches A's page (it resumes from A's last checkpoint): only the end of A's session lets it
  // write those jobs. The whole mirror catches up while A is still frozen.
  const b = await takenOverBy(w, frozen, frozenAt);
  await whileFrozen(w);
  const stalledMs = Date.now() - frozenAt;
  // The server ended A's session (idle_in_transaction_session_timeout), which released its locks.
  expect((await w.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [writer])).rowCount).toBe(0);

  a.child.kill('SIGCONT');
  const sessionEnded = /PostgreSQL ended this transaction/;
  await waitFor(
    "A's frozen transaction to fail",
    () => linesOf(a, sessionEnded).length > 0,
    10_000,
    50,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; A logged:\n${a.stderr.slice(-4000)}`);
  });
  // One line: the worker's retry notice (the task itself does not log it again).
  const failed = linesOf(a, sessionEnded);
  expect(failed, failed.join('\n')).toHaveLength(1);
  expect(failed[0]).toMatch(/head failed, will retry: .*idle_in_transaction_session_timeout/);

  await quietAndStop(w, a, b);
  expect(linesOf(a, /failed after/)).toEqual([]);
  // B was held back by A's session no longer than the lease lapse plus the timeout plus its own start and walk.
  expect(stalledMs).toBeLessThan(20_000);
}, 60_000);

it('c: frozen in its page write before the fence check, the late write of A is refused by the store', async () => {
  const w = await startWorld(24);
  // Both workers run from the start (each has committed pages: past its start-up probe, fatalGate.ts), with
  // enough slots that a head tick still runs while other tasks wait for the test's locks. A is whichever holds
  // the head lease when the walk stops at the locks.
  const slots = { WORKER_CONCURRENCY: '8' };
  const workers = [startWorker(w, 'a', slots)];
  await settled(w);
  workers.push(startWorker(w, 'b', slots));
  await waitFor(
    'the second worker to commit a page',
    async () =>
      ((await w.pool.query(`SELECT 1 FROM ${WRITES} WHERE worker = 'b' AND new_pages > old_pages`))
        .rowCount ?? 0) > 0,
    30_000,
    100,
  );
  await newHeadWalk(w);

  // Freeze A while its head page write waits for the test's locks, and keep them: A's statement is running
  // (not idle: the session timeout does not apply), its transaction holds no lock yet, and it is past the
  // lost-lease guard: only the store's fence check stands between it and a commit.
  await holdJobLocks(w);
  // The walk stopped at the locks: its holder keeps the head lease while its checkpoint stays still.
  const redis = new Redis(redisUrl);
  const headOwner = () => redis.get(leaseKey(w.prefix, 'partition:head'));
  let last = (await headRow(w.pool)).pages;
  let still = Date.now();
  let owner: string | null = null;
  try {
    await waitFor(
      'the head walk to stop at the locks',
      async () => {
        const pages = (await headRow(w.pool)).pages;
        owner = await headOwner();
        if (pages !== last || owner === null) [last, still] = [pages, Date.now()];
        return Date.now() - still > 1000;
      },
      10_000,
      50,
    );
  } finally {
    redis.disconnect();
  }
  const pid = Number((owner as string | null)?.split(' ')[0]?.split(':').pop());
  const a = workers.find((c) => c.child.pid === pid);
  const b = workers.find((c) => c.child.pid !== pid);
  if (!a || !b) throw new Error(`the head lease is held by ${owner}, not by a worker of this test`);
  a.child.kill('SIGSTOP');
  const frozenAt = Date.now();
  const frozen = await headRow(w.pool);
  w.sim.faults.clear();

  // B takes the partition over: a newer fence (its walk then waits for the test's locks too).
  await waitFor('B to take head over', async () => (await headRow(w.pool)).fence > frozen.fence, 30_000, 50);
  expect(Date.now() - frozenAt).toBeGreaterThanOrEqual((TTL_MS * 2) / 3);

  // SIGCONT: A knows at once its lease is gone, but its write is already in flight. Let go of the locks: A's
  // backend is first in line, and its transaction reaches the fence check with a stale token.
  a.child.kill('SIGCONT');
  await waitFor('A to notice its lost lease', () => linesOf(a, LEASE_LOST).length > 0, 10_000, 50);
  await letGo(w);
  const stale = /write to partition head refused: fencing token \d+ is stale \(the mirror holds \d+\)/;
  await waitFor("A's late write to be refused by fencing", () => linesOf(a, stale).length > 0, 10_000, 50);
  expect(linesOf(a, stale)).toHaveLength(1);
  expect(linesOf(a, LEASE_LOST)).toHaveLength(1);
  await waitFor('B to commit a page', async () => (await headRow(w.pool)).pages > frozen.pages, 20_000, 50);

  await quietAndStop(w, a, b);
  // Refused, not failed: no retry (the new holder does the work).
  expect(linesOf(a, /failed, will retry|failed after/)).toEqual([]);
}, 60_000);
