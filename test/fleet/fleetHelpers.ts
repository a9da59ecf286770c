/**
 * Fixtures of the fleet tests: N `retab-mirror worker` children on one mirror and one Redis prefix (started,
 * SIGKILLed, restarted, stopped, and never left behind), a watcher that samples every partition's checkpoint
 * through the store API and records any that moves backwards, and the read-outs the chaos test compares
 * (every outbox event id, the keys left under a prefix). The CLI plumbing and the convergence checks come
 * from test/reliability/helpers.ts; the webhook receiver from test/events/helpers.ts.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import type { MirrorStore, SyncStateRow } from '../../src/mirror/index.ts';
import { type CliChild, type CliResult, query, sleep, spawnCli } from '../reliability/helpers.ts';

// ---------------------------------------------------------------- a fleet of worker children

export interface Fleet {
  /** The live child of each slot (a restart replaces it). */
  readonly workers: readonly CliChild[];
  /** SIGKILL slot `i` and wait for it to be gone; resolves how it ended. */
  kill(i: number): Promise<CliResult>;
  /** Start a new worker in slot `i` (its previous child must have exited). */
  restart(i: number): void;
  /**
   * Run another command (`backfill`, `sync`, `copy`) with the fleet's environment, tracked like the workers
   * so the teardown kills it should the test end while it runs.
   */
  run(args: string[], opts?: { timeoutMs?: number }): Promise<CliResult>;
  /** SIGTERM every live worker; those still running after `graceMs` are SIGKILLed. Resolves each ending. */
  stop(graceMs?: number): Promise<CliResult[]>;
  /** SIGKILL every child this fleet ever started that is still running (teardown; never throws). */
  destroy(): Promise<void>;
  /** Every child ever started, workers and `run`s (for the teardown's check that none survives). */
  readonly started: readonly CliChild[];
  /** The last lines of every child's stderr, labelled: the evidence to print when an assertion fails. */
  stderrTail(lines?: number): string;
  /** What the children logged (stderr, pino JSON at LOG_LEVEL), as `count × level message`, most frequent first. */
  logSummary(): string[];
}

const alive = (c: CliChild) => c.child.exitCode === null && c.child.signalCode === null;

/** Start `size` `retab-mirror worker` children with `env` (see the file header). */
export function startFleet(size: number, env: Record<string, string>, timeoutMs = 300_000): Fleet {
  const started: CliChild[] = [];
  const spawnWorker = () => {
    const c = spawnCli(['worker'], env, { timeoutMs });
    started.push(c);
    return c;
  };
  const workers = Array.from({ length: size }, spawnWorker);
  // Should the test runner exit without the teardown (a crash, a second Ctrl-C), take the workers along.
  const onExit = () => {
    for (const c of started) if (alive(c)) c.child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  const slot = (i: number): CliChild => {
    const c = workers[i];
    if (!c) throw new RangeError(`no worker in slot ${i} (fleet of ${workers.length})`);
    return c;
  };
  return {
    workers,
    started,
    async kill(i) {
      const c = slot(i);
      c.child.kill('SIGKILL');
      return c.exited;
    },
    run(args, opts = {}) {
      const c = spawnCli(args, env, { timeoutMs: opts.timeoutMs ?? 60_000 });
      started.push(c);
      return c.exited;
    },
    restart(i) {
      if (alive(slot(i))) throw new Error(`worker ${i} is still running; kill it first`);
      workers[i] = spawnWorker();
    },
    async stop(graceMs = 15_000) {
      return Promise.all(
        workers.map(async (c) => {
          if (alive(c)) c.child.kill('SIGTERM');
          const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
          try {
            return await c.exited;
          } finally {
            clearTimeout(timer);
          }
        }),
      );
    },
    async destroy() {
      process.off('exit', onExit);
      await Promise.all(
        started.map(async (c) => {
          if (alive(c)) c.child.kill('SIGKILL');
          await c.exited.catch(() => undefined);
        }),
      );
    },
    stderrTail(lines = 15) {
      return started
        .map((c, n) => {
          const tail = c.stderr.trimEnd().split('\n').slice(-lines).join('\n');
          return `--- child #${n} (${c.child.spawnargs.slice(2).join(' ')}; pid ${c.child.pid}, ${alive(c) ? 'running' : `ended ${c.child.signalCode ?? c.child.exitCode}`})\n${tail}`;
        })
        .join('\n');
    },
    logSummary() {
      const counts = new Map<string, number>();
      for (const c of started)
        for (const line of c.stderr.split('\n')) {
          if (line.trim() === '') continue;
          let key: string;
          try {
            const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
            key = `${entry.level} ${String(entry.msg).slice(0, 120)}`;
          } catch {
            key = `(text) ${line.slice(0, 120)}`;
          }
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`);
    },
  };
}

// ---------------------------------------------------------------- checkpoints never move backwards

/** A checkpoint as the watcher saw it, with the position of its cursor job in the listing. */
export interface CheckpointSample {
  at: number;
  partition: string;
  cursor: string | null;
  /** `created_at` (unix s) of the cursor's job; undefined when there is no cursor or the job is not found. */
  cursorCreatedAt: number | undefined;
  watermark: number | null;
  status: string;
  lastSuccessAt: number | null;
}

/**
 * The order a partition's walk lists in, so its cursor only moves one way: `window:*` walks oldest first
 * (window.ts) except a dense day's end walk `window:<day>:desc` (sync/daySplit.ts), `head*` newest first
 * (head.ts); other partitions (active, hydrate) store no cursor.
 */
export function walkOrder(partition: string): 'asc' | 'desc' | undefined {
  if (partition.startsWith('window:')) return partition.endsWith(':desc') ? 'desc' : 'asc';
  if (partition === 'head' || partition.startsWith('head:')) return 'desc';
  return undefined;
}

/** Compare two listing positions `(created_at, id)` (upstream's order, simulator/sortedIndex.ts). */
function comparePosition(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Why `next` is a checkpoint that moved backwards from `prev` (same partition, sampled later), or undefined
 * when it did not:
 * - the watermark (highest `created_at` known complete) decreased or was cleared;
 * - the cursor moved against the partition's walk order (`walkOrder`) within one walk. A walk legitimately
 *   starts over only after it ended: its completion clears the cursor and stamps `last_success_at`
 *   (head.ts, window.ts), so a cursor that was null in either sample, or a `last_success_at` that changed
 *   in between, is a new walk, not a regression. (Deliberate restarts — reconcile's `restart`, a cursor
 *   rejected upstream — are kept out of the watched period by the test.)
 */
export function checkpointRegression(prev: CheckpointSample, next: CheckpointSample): string | undefined {
  const p = prev.partition;
  if (prev.watermark !== null && (next.watermark === null || next.watermark < prev.watermark))
    return `${p}: watermark went back from ${prev.watermark} to ${next.watermark} (samples at +${prev.at} and +${next.at} ms)`;
  const order = walkOrder(p);
  if (order === undefined || prev.cursor === null || next.cursor === null) return undefined;
  if (prev.cursor === next.cursor || prev.lastSuccessAt !== next.lastSuccessAt) return undefined;
  if (prev.cursorCreatedAt === undefined || next.cursorCreatedAt === undefined)
    return `${p}: cursor ${next.cursor} names no mirrored job (was ${prev.cursor})`;
  const moved = comparePosition(
    { createdAt: next.cursorCreatedAt, id: next.cursor },
    { createdAt: prev.cursorCreatedAt, id: prev.cursor },
  );
  if ((order === 'asc' && moved < 0) || (order === 'desc' && moved > 0))
    return `${p}: cursor went back from ${prev.cursor} (created ${prev.cursorCreatedAt}) to ${next.cursor} (created ${next.cursorCreatedAt}) within one walk (status ${prev.status}→${next.status}, samples at +${prev.at} and +${next.at} ms)`;
  return undefined;
}

export interface WatchResult {
  samples: number;
  partitions: number;
  regressions: string[];
  errors: string[];
  /** The highest watermark sampled per partition (a later state must not be below it: `belowHighest`). */
  highest: Map<string, number>;
}

export interface CheckpointWatch {
  /** Stop sampling (waits for the sample in flight); resolves what was seen. */
  stop(): Promise<WatchResult>;
}

/**
 * Partitions of `rows` (a later state) whose watermark is below the highest one the watch sampled: a
 * regression that outlived the sampling, however briefly each state lasted.
 */
export function belowHighest(highest: ReadonlyMap<string, number>, rows: readonly SyncStateRow[]): string[] {
  const now = new Map(rows.map((r) => [r.partition, r.watermark]));
  const out: string[] = [];
  for (const [partition, high] of highest) {
    const w = now.get(partition);
    if (w === undefined || w === null || w < high)
      out.push(`${partition}: watermark ${w ?? 'none'} at the end, below the ${high} it had reached`);
  }
  return out;
}

/**
 * Sample every partition's checkpoint (`syncState.list()`, through the store API) every `everyMs` and
 * check each sample against the previous one of its partition (`checkpointRegression`).
 */
export function watchCheckpoints(store: MirrorStore, everyMs = 200): CheckpointWatch {
  const t0 = Date.now();
  const last = new Map<string, CheckpointSample>();
  const regressions: string[] = [];
  const errors: string[] = [];
  const highest = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const sampleOnce = async () => {
    const rows: SyncStateRow[] = await store.syncState.list();
    const at = Date.now() - t0;
    const cursors = rows.map((r) => r.cursor).filter((c): c is string => c !== null);
    const createdAt = new Map(
      (cursors.length > 0 ? await store.jobs.createdAtOf(cursors) : []).map((j) => [j.id, j.createdAt]),
    );
    samples++;
    for (const r of rows) {
      const next: CheckpointSample = {
        at,
        partition: r.partition,
        cursor: r.cursor,
        cursorCreatedAt: r.cursor === null ? undefined : createdAt.get(r.cursor),
        watermark: r.watermark,
        status: r.status,
        lastSuccessAt: r.lastSuccessAt,
      };
      const prev = last.get(r.partition);
      const problem = prev && checkpointRegression(prev, next);
      if (problem) regressions.push(problem);
      last.set(r.partition, next);
      if (r.watermark !== null && r.watermark > (highest.get(r.partition) ?? Number.NEGATIVE_INFINITY))
        highest.set(r.partition, r.watermark);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      try {
        await sampleOnce();
      } catch (err) {
        errors.push((err as Error).message);
      }
      await sleep(Math.max(0, everyMs - (Date.now() - started)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { samples, partitions: last.size, regressions, errors, highest };
    },
  };
}

// ---------------------------------------------------------------- every checkpoint write, audited (PostgreSQL)

const AUDIT_TABLE = 'fleet_test_checkpoint_audit';

/**
 * The watcher's rule (`checkpointRegression`) as a trigger on `sync_state`, so that every committed
 * checkpoint write is checked, not only the states a 200 ms sample happens to see. A write that moves a
 * checkpoint backwards adds a row to an audit table (in the writer's transaction: a rolled-back write
 * leaves none); the trigger never raises, so it cannot change what the workers do. Test scaffolding on the
 * test's own database, removed by `removeCheckpointAudit` before the mirror is copied.
 */
export async function installCheckpointAudit(url: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(`CREATE TABLE ${AUDIT_TABLE} (
      id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), problem text NOT NULL,
      partition text NOT NULL, old_cursor text, new_cursor text, old_created bigint, new_created bigint,
      old_watermark bigint, new_watermark bigint, status text)`);
    await c.query(`CREATE FUNCTION ${AUDIT_TABLE}_check() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        oc bigint;
        nc bigint;
        back boolean;
      BEGIN
        IF OLD.watermark IS NOT NULL AND (NEW.watermark IS NULL OR NEW.watermark < OLD.watermark) THEN
          INSERT INTO ${AUDIT_TABLE} (problem, partition, old_cursor, new_cursor, old_watermark, new_watermark, status)
            VALUES ('watermark went back', NEW.partition, OLD.cursor, NEW.cursor, OLD.watermark, NEW.watermark,
                    OLD.status || '->' || NEW.status);
        END IF;
        IF OLD.cursor IS NOT NULL AND NEW.cursor IS NOT NULL AND NEW.cursor <> OLD.cursor
           AND NEW.last_success_at IS NOT DISTINCT FROM OLD.last_success_at
           AND (NEW.partition LIKE 'window:%' OR NEW.partition = 'head' OR NEW.partition LIKE 'head:%') THEN
          SELECT created_at INTO oc FROM jobs WHERE id = OLD.cursor;
          SELECT created_at INTO nc FROM jobs WHERE id = NEW.cursor;
          IF oc IS NULL OR nc IS NULL THEN
            back := true;
          ELSIF NEW.partition LIKE 'window:%' AND NEW.partition NOT LIKE '%:desc' THEN
            back := (nc, NEW.cursor COLLATE "C") < (oc, OLD.cursor COLLATE "C");
          ELSE
            back := (nc, NEW.cursor COLLATE "C") > (oc, OLD.cursor COLLATE "C");
          END IF;
          IF back THEN
            INSERT INTO ${AUDIT_TABLE} (problem, partition, old_cursor, new_cursor, old_created, new_created, status)
              VALUES (CASE WHEN oc IS NULL OR nc IS NULL THEN 'cursor names no mirrored job'
                           ELSE 'cursor went back within one walk' END,
                      NEW.partition, OLD.cursor, NEW.cursor, oc, nc, OLD.status || '->' || NEW.status);
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    await c.query(
      `CREATE TRIGGER ${AUDIT_TABLE} AFTER UPDATE ON sync_state FOR EACH ROW EXECUTE FUNCTION ${AUDIT_TABLE}_check()`,
    );
  });
}

/** The regressions the audit recorded, one readable line each, in commit order. */
export async function readCheckpointAudit(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const r = await c.query<Record<string, string | null>>(
      `SELECT to_char(at, 'HH24:MI:SS.MS') AS at, problem, partition, old_cursor, new_cursor, old_created,
         new_created, old_watermark, new_watermark, status FROM ${AUDIT_TABLE} ORDER BY id`,
    );
    return r.rows.map((a) =>
      a.problem === 'watermark went back'
        ? `${a.at} ${a.partition}: watermark went back from ${a.old_watermark} to ${a.new_watermark} (status ${a.status}) [every write audited]`
        : `${a.at} ${a.partition}: ${a.problem}: ${a.old_cursor} (created ${a.old_created}) -> ${a.new_cursor} (created ${a.new_created}) (status ${a.status}) [every write audited]`,
    );
  });
}

/** Drop the audit's trigger, function and table (idempotent). */
export async function removeCheckpointAudit(url: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(`DROP TRIGGER IF EXISTS ${AUDIT_TABLE} ON sync_state`);
    await c.query(`DROP FUNCTION IF EXISTS ${AUDIT_TABLE}_check()`);
    await c.query(`DROP TABLE IF EXISTS ${AUDIT_TABLE}`);
  });
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------- read-outs

/** Every event id in the outbox, in seq order (paged through `outbox.after`). */
export async function outboxEventIds(store: MirrorStore): Promise<string[]> {
  const ids: string[] = [];
  for (let after = 0; ; ) {
    const batch = await store.outbox.after(after, 1000);
    if (batch.length === 0) return ids;
    for (const e of batch) ids.push(e.eventId);
    after = batch[batch.length - 1]?.seq ?? after;
  }
}

/** The keys under `<prefix>:` on the Redis at `url` (a leak check after teardown). */
export async function keysUnder(url: string, prefix: string): Promise<string[]> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  } finally {
    r.disconnect();
  }
}

/**
 * Runs of one partition that overlapped in time, from the run log of a mirror file (`sync_runs`): what a
 * partition lease across processes rules out, so the evidence beside a regressed checkpoint. A run killed
 * with its worker has no end; it is counted as lasting until the next run of its partition started.
 */
export function overlappingRuns(dbPath: string): string[] {
  const runs = query<{
    id: number;
    partition: string;
    started_at: number;
    finished_at: number | null;
    outcome: string;
  }>(
    dbPath,
    'SELECT id, partition, started_at, finished_at, outcome FROM sync_runs ORDER BY partition, started_at, id',
  );
  const out: string[] = [];
  for (let i = 0; i < runs.length; i++) {
    const a = runs[i];
    if (!a) continue;
    const nextStart = runs.slice(i + 1).find((r) => r.partition === a.partition)?.started_at;
    const end = a.finished_at ?? nextStart ?? Number.POSITIVE_INFINITY;
    for (const b of runs.slice(i + 1)) {
      if (b.partition !== a.partition || b.started_at >= end) break;
      out.push(
        `${a.partition}: run ${a.id} (${a.outcome}, ${a.started_at}–${a.finished_at ?? 'killed'}) overlaps run ${b.id} (${b.outcome}, started ${b.started_at})`,
      );
    }
  }
  return out;
}
