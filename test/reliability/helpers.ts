/**
 * Fixtures of the reliability suite: the real CLI as a child process, hooks into the in-process simulator's
 * request stream (scripted faults, clock moves, kills at a chosen request), and the checks every scenario
 * ends with: the mirror equals the simulator's ground truth, each job's event chain is continuous, no event
 * is duplicated, and SQLite says the file is intact. Self-contained on purpose: other folders' test
 * helpers may change under us.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import type { FaultKind, RequestRecord, Simulator } from '../../src/simulator/index.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/retab-mirror.js');

/** Crash trials per run: 5 by default (CI), `RELIABILITY_TRIALS=20` for the long local run. */
export function trials(fallback = 5): number {
  const n = Number(process.env.RELIABILITY_TRIALS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** A seeded generator (mulberry32): every random choice of a scenario is replayable from its seed. */
export function seeded(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** Integer in [min, max]. */
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
  };
}
export type Rng = ReturnType<typeof seeded>;

// ---------------------------------------------------------------- temp dirs

export interface TempDir {
  dir: string;
  dbPath: string;
  cleanup(): void;
}

export function tempDir(prefix = 'retab-rel-'): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    dbPath: join(dir, 'mirror.db'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------- the CLI as a child process

/** The environment of a CLI child against `sim`: no inherited RETAB_ / MIRROR_ / REDIS_ settings leak in. */
export function cliEnv(
  sim: Pick<Simulator, 'url' | 'apiKey'> | undefined,
  dbPath: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(RETAB_|MIRROR_|REDIS_|QUEUE_|POLL_|LOG_|DEBUG$)/.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    ...(sim ? { RETAB_BASE_URL: sim.url, RETAB_API_KEY: sim.apiKey } : {}),
    MIRROR_DB: dbPath,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface CliChild {
  child: ChildProcess;
  /** Everything written so far (live). */
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<CliResult>;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  /** Kill with SIGKILL after this long and fail loudly (a hung child must not hang the suite). @default 60000 */
  timeoutMs?: number;
  /** Run as this uid/gid (only root can). */
  uid?: number;
  gid?: number;
  cwd?: string;
}

/** Start `retab-mirror <args>` (the real bin: tsx loader, main.ts, commander). */
export function spawnCli(args: string[], env: Record<string, string>, opts: SpawnOptions = {}): CliChild {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const timer = setTimeout(() => {
    stderr += `\n[test] killed after ${opts.timeoutMs ?? 60_000} ms\n`;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  const exited = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
  };
}

export function runCli(args: string[], env: Record<string, string>, opts: SpawnOptions = {}) {
  return spawnCli(args, env, opts).exited;
}

/** A stack trace in CLI output: `    at fn (file:line:col)`. */
export const STACK_LINE = /^\s+at .+[:(].*\d+:\d+\)?$/m;

// ---------------------------------------------------------------- hooks into the simulator's request stream

export type ArrivalHook = (rec: RequestRecord, index: number) => void;

/**
 * Call `hook` synchronously on every `/v1` request the simulator receives, after it is logged and before
 * its fault is drawn: a hook may `sim.faults.enqueue(kind)` to give *this* request that fault, move the
 * clock, or kill the client. Returns the unhook function.
 */
export function onArrival(sim: Simulator, hook: ArrivalHook): () => void {
  const stats = sim.stats as Simulator['stats'] & { arrive: Simulator['stats']['arrive'] };
  const original = stats.arrive;
  let index = 0;
  stats.arrive = function (this: unknown, ...args: Parameters<typeof original>) {
    const rec = original.apply(stats, args);
    hook(rec, index++);
    return rec;
  };
  return () => {
    stats.arrive = original;
  };
}

/** Give the requests `pick` selects the fault it returns (scripted, so exactly those requests). */
export function scriptFaults(
  sim: Simulator,
  pick: (rec: RequestRecord, index: number) => FaultKind | undefined,
) {
  return onArrival(sim, (rec, i) => {
    const kind = pick(rec, i);
    if (kind) sim.faults.enqueue(kind);
  });
}

// ---------------------------------------------------------------- a misbehaving upstream in front of the simulator

export interface ProxyAnswer {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON, or undefined when the body is not JSON (passed on untouched). */
  json: unknown;
  text: string;
}

export type ProxyRewrite = (url: URL, answer: ProxyAnswer) => ProxyAnswer;

const KEPT_HEADERS = ['content-type', 'retry-after', 'retry-after-ms', 'x-request-id'];

/**
 * An HTTP proxy on 127.0.0.1 in front of the simulator that lets a test rewrite answers the simulator cannot
 * produce on its own (duplicate items across pages, an error body that echoes the request's key). A reset
 * upstream is a reset here too. Returns its base URL (same path prefix as `targetUrl`).
 */
export async function startProxy(
  targetUrl: string,
  rewrite: ProxyRewrite,
): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(targetUrl);
  const server = createHttpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', target.origin);
    try {
      const upstream = await fetch(url, {
        method: req.method ?? 'GET',
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(
            (e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'host',
          ),
        ),
      });
      const text = await upstream.text();
      const headers: Record<string, string> = {};
      for (const h of KEPT_HEADERS) {
        const v = upstream.headers.get(h);
        if (v !== null) headers[h] = v;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const out = rewrite(url, { status: upstream.status, headers, json, text });
      const body = out.json === undefined ? out.text : JSON.stringify(out.json);
      res.writeHead(out.status, { ...out.headers, 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    } catch {
      req.socket.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/**
 * A rewrite that makes list pages overlap: a page requested `after=X` starts with job X again (the last
 * item of the page before), as an upstream whose listing shifted under the cursor would send it.
 */
export function overlappingPages(): ProxyRewrite & { duplicated: () => number } {
  const lastOf = new Map<string, unknown>();
  let duplicated = 0;
  const rewrite: ProxyRewrite = (url, answer) => {
    const page = answer.json as { object?: string; data?: unknown[] } | undefined;
    if (answer.status !== 200 || page?.object !== 'list' || !Array.isArray(page.data)) return answer;
    const last = page.data[page.data.length - 1] as { id?: unknown } | undefined;
    const after = url.searchParams.get('after');
    const previous = after ? lastOf.get(after) : undefined;
    if (last && typeof last.id === 'string') lastOf.set(last.id, structuredClone(last));
    if (previous) {
      page.data.unshift(previous);
      duplicated++;
    }
    return answer;
  };
  return Object.assign(rewrite, { duplicated: () => duplicated });
}

// ---------------------------------------------------------------- ground truth

interface MirrorJobRow {
  id: string;
  status: string;
  endpoint: string;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  expires_at: number;
  organization_id: string;
  error_code: string | null;
  metadata: string | null;
  request: string | null;
  has_request: number;
}

export interface TruthOptions {
  /** Also compare the stored request payloads. @default true */
  requests?: boolean;
}

/**
 * Every difference between the mirror file and the simulator's ground truth: missing or extra ids, and per
 * job the status, endpoint, timestamps, organisation, error code, metadata and (by default) request. Empty
 * when the mirror equals upstream.
 */
export function truthDiff(sim: Simulator, dbPath: string, opts: TruthOptions = {}): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT id, status, endpoint, created_at, started_at, completed_at, expires_at, organization_id,
           error_code, metadata, request, has_request FROM jobs`,
      )
      .all() as MirrorJobRow[];
    const mirrored = new Map(rows.map((r) => [r.id, r]));
    const diff: string[] = [];
    const truth = sim.store.all();
    for (const job of truth) {
      const row = mirrored.get(job.id);
      if (!row) {
        diff.push(`${job.id}: missing from the mirror (upstream ${job.status})`);
        continue;
      }
      mirrored.delete(job.id);
      const want: Record<string, unknown> = {
        status: job.status,
        endpoint: job.endpoint,
        created_at: job.created_at,
        started_at: job.started_at ?? null,
        completed_at: job.completed_at ?? null,
        expires_at: job.expires_at,
        organization_id: job.organization_id,
        error_code: job.error?.code ?? null,
        metadata: job.metadata ?? null,
      };
      const got: Record<string, unknown> = {
        ...row,
        metadata: row.metadata === null ? null : JSON.parse(row.metadata),
      };
      for (const [k, v] of Object.entries(want)) {
        if (!isDeepStrictEqual(got[k], v))
          diff.push(`${job.id}.${k}: mirror ${JSON.stringify(got[k])} vs upstream ${JSON.stringify(v)}`);
      }
      if (opts.requests !== false) {
        const stored = row.request === null ? null : JSON.parse(row.request);
        if (!row.has_request || !isDeepStrictEqual(stored, job.request ?? null))
          diff.push(`${job.id}.request: mirror ${row.has_request ? 'differs' : 'has none'}`);
      }
    }
    for (const id of mirrored.keys()) diff.push(`${id}: in the mirror but not upstream`);
    return diff;
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------- outbox and file checks

interface EventRow {
  seq: number;
  event_id: string;
  type: string;
  job_id: string;
  from_status: string | null;
  to_status: string | null;
  occurred_at: number;
}

/**
 * What is wrong with the outbox, as readable lines (empty when all is well):
 * - an event id twice, or two `job.status_changed` with the same (job, to, occurred_at);
 * - a job whose chain does not start with one `job.discovered`, has a step whose `from` is not the previous
 *   `to` (a lost or doubled transition), or ends at another status than the job's current one.
 */
export function outboxProblems(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    const problems: string[] = [];
    const events = db
      .prepare(
        `SELECT seq, event_id, type, job_id, from_status, to_status, occurred_at FROM job_events
         WHERE type IN ('job.discovered', 'job.status_changed') ORDER BY seq`,
      )
      .all() as EventRow[];
    const dupIds = db
      .prepare('SELECT event_id, count(*) AS n FROM job_events GROUP BY event_id HAVING n > 1')
      .all() as { event_id: string; n: number }[];
    for (const d of dupIds) problems.push(`event id ${d.event_id} appears ${d.n} times`);
    const dupSteps = db
      .prepare(
        `SELECT job_id, to_status, occurred_at, count(*) AS n FROM job_events WHERE type = 'job.status_changed'
         GROUP BY job_id, to_status, occurred_at HAVING n > 1`,
      )
      .all() as { job_id: string; to_status: string; occurred_at: number; n: number }[];
    for (const d of dupSteps)
      problems.push(`${d.job_id}: ${d.n} status_changed events to ${d.to_status} at ${d.occurred_at}`);

    const status = new Map(
      (db.prepare('SELECT id, status FROM jobs').all() as { id: string; status: string }[]).map((r) => [
        r.id,
        r.status,
      ]),
    );
    const chain = new Map<string, string>();
    for (const e of events) {
      const at = chain.get(e.job_id);
      if (e.type === 'job.discovered') {
        if (at !== undefined) problems.push(`${e.job_id}: discovered twice (seq ${e.seq})`);
        chain.set(e.job_id, e.to_status ?? '?');
      } else if (at === undefined) {
        problems.push(`${e.job_id}: status_changed before any job.discovered (seq ${e.seq})`);
        chain.set(e.job_id, e.to_status ?? '?');
      } else {
        if (e.from_status !== at)
          problems.push(
            `${e.job_id}: chain broken at seq ${e.seq}: ${at} then ${e.from_status}→${e.to_status}`,
          );
        chain.set(e.job_id, e.to_status ?? '?');
      }
    }
    for (const [id, s] of status) {
      const last = chain.get(id);
      if (last === undefined) problems.push(`${id}: mirrored (${s}) without a job.discovered event`);
      else if (last !== s) problems.push(`${id}: events end at ${last} but the job is ${s}`);
    }
    return problems;
  } finally {
    db.close();
  }
}

/** `PRAGMA integrity_check` and `foreign_key_check` of a mirror file: ['ok'] when intact. */
export function integrity(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    const fk = db.pragma('foreign_key_check') as unknown[];
    return [...rows.map((r) => r.integrity_check), ...fk.map((f) => `foreign key: ${JSON.stringify(f)}`)];
  } finally {
    db.close();
  }
}

/** Run one read-only query against a mirror file. */
export function query<T = Record<string, unknown>>(dbPath: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------- the crash scenarios' checks

/** Upstream that moves a lot: frequent retries make terminal-is-not-final cycles common. */
export const BUSY_RATES = { arrivalsPerMinute: 15, retriesPerMinute: 8, failureRate: 0.15, cancelRate: 0.05 };

/** Invariants that must hold after any kill, before anything repairs the file. */
export function assertCrashConsistent(dbPath: string, label: string): void {
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

/** The mirror equals upstream, its outbox is exact, its file intact. */
export function assertConverged(sim: Simulator, dbPath: string): void {
  expect(truthDiff(sim, dbPath)).toEqual([]);
  expect(outboxProblems(dbPath)).toEqual([]);
  expect(integrity(dbPath)).toEqual(['ok']);
}

// ---------------------------------------------------------------- Redis

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        addr && typeof addr === 'object' ? resolvePort(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

async function ping(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** A private, non-persistent redis-server on `port` that a test may stop, restart and flush. */
export async function startRedisServer(port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await ping(url))) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await sleep(50);
  }
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill('SIGKILL');
      }),
  };
}

/** Delete every key under a BullMQ prefix. */
export async function dropPrefix(redisUrl: string, prefix: string): Promise<void> {
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } catch {
    // A private server already stopped: nothing left to clean.
  } finally {
    r.disconnect();
  }
}

export const uniquePrefix = () => `rel-${randomUUID()}`;

// ---------------------------------------------------------------- time

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
