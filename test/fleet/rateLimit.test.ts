/**
 * One upstream budget for the fleet: three `retab-mirror worker` processes on one PostgreSQL mirror, one
 * Redis and one QUEUE_PREFIX, with RATE_LIMIT_RPS=10, sweep a backfill of 10 days (~110 list pages, ~11 s at
 * 10/s). The simulator's request log shows at most 11 requests (10 + 1 for timer jitter) in every 1-second
 * sliding window — per-process pacing would let ~30/s through — and the backfill completes. A 429 with
 * Retry-After: 2 answered to one worker mid-way: no worker sends anything until it has passed (beyond requests
 * already on the wire), and `status` reports the fleet's request rate from the limiter's counts.
 *
 * The simulator runs in its own process (`retab-mirror simulator`): its request log stamps each request when
 * its event loop gets to it, and in this test's process that loop also runs vitest and the test's polling — a
 * stall there bunched arrivals that the workers had sent evenly spaced (3 within 40 ms after a ~250 ms stall).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/mirror/index.ts';
import { collectStatus, createSyncQueue, enqueueBackfill } from '../../src/queue/index.ts';
import { utcDay } from '../../src/retab/index.ts';
import type { RequestRecord } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import {
  type CliChild,
  cliEnv,
  dropPrefix,
  spawnCli,
  uniquePrefix,
  waitFor,
} from '../reliability/helpers.ts';
import { busiestSecond, maxInAnySecond } from './rateWindows.ts';

const redisUrl = inject('redisUrl');
const RPS = 10;
const RETRY_AFTER_S = 2;
/** A request already on the wire when the 429 left the simulator arrives a little after it (loaded machine). */
const IN_FLIGHT_MS = 250;

/** `retab-mirror simulator` as a child process; its URL and key read from its stdout. */
async function startSimulatorProcess(
  args: string[],
): Promise<{ url: string; apiKey: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['bin/retab-mirror.js', 'simulator', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const found: Record<string, string> = {};
  for await (const line of createInterface({ input: proc.stdout as NonNullable<typeof proc.stdout> })) {
    const m = /^(RETAB_BASE_URL|RETAB_API_KEY)=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) found[m[1]] = m[2];
    if (found.RETAB_BASE_URL && found.RETAB_API_KEY) break;
  }
  if (!found.RETAB_BASE_URL || !found.RETAB_API_KEY)
    throw new Error('the simulator did not print its URL and key');
  return { url: found.RETAB_BASE_URL, apiKey: found.RETAB_API_KEY, proc };
}

describe('fleet rate limit', () => {
  let sim: { url: string; apiKey: string; proc: ChildProcess };
  /** A control route of the simulator (`/_sim/…`, next to `/v1`). */
  const control = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(new URL(`/_sim/${path}`, sim.url), init);
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  let db: TestDatabase;
  const prefix = uniquePrefix();
  const workers: CliChild[] = [];

  beforeAll(async () => {
    sim = await startSimulatorProcess(['--seed', '22', '--jobs', '2000', '--days', '10']); // its clock stands still (no --realtime): no arrivals during the sweep
    db = await createTestDatabase();
    // Migrate once here: three workers starting together would race to create the schema.
    await (await openStore(db.url)).close();
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    if (sim?.proc.exitCode === null) {
      const exited = new Promise((resolve) => sim.proc.once('exit', resolve));
      sim.proc.kill('SIGTERM');
      await exited;
    }
    await db?.drop();
    await dropPrefix(redisUrl, prefix);
  });

  it(`3 workers at RATE_LIMIT_RPS=${RPS}: ≤ ${RPS + 1} requests in every 1-s window, a 429 pauses them all, the backfill completes`, async () => {
    const env = cliEnv(sim, db.url, {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      RATE_LIMIT_RPS: String(RPS),
      WORKER_CONCURRENCY: '4',
      PAGE_SIZE: '20',
      PAYLOAD_MODE: 'none',
      BACKFILL_DAYS: '1',
    });
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = createSyncQueue(redis, prefix);
    try {
      for (let i = 0; i < 3; i++) workers.push(spawnCli(['worker'], env, { timeoutMs: 90_000 }));
      await waitFor(
        'three workers on the queue',
        async () => (await queue.getWorkersCount()) >= 3,
        40_000,
        200,
      );

      // The 41st request of the sweep gets a 429 with Retry-After: 2.
      await control('faults', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          retryAfterSeconds: RETRY_AFTER_S,
          routes: ['list'],
          sequence: [...Array(40).fill('ok'), 'http429'],
        }),
      });
      await control('stats', { method: 'DELETE' });
      const nowS = Math.floor((await control<{ now: number }>('clock')).now / 1000);
      let ids: string[];
      {
        const { added } = await enqueueBackfill(queue, {
          from: utcDay(nowS - 11 * 86_400),
          to: utcDay(nowS),
        });
        ids = added;
        await waitFor(
          'every window job to complete',
          async () => {
            const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
            if (states.includes('failed')) throw new Error(`a window failed: ${states.join(', ')}`);
            return states.every((s) => s === 'completed');
          },
          45_000,
          500,
        );
        // A dense day's end walk is a window job of its own, queued by the walk from the start.
        await waitFor(
          "every window job to complete, dense days' end walks included",
          async () => {
            const left = await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
            const failed = await queue.getJobs(['failed']);
            if (failed.some((j) => j.name === 'window')) throw new Error('a window failed');
            return !left.some((j) => j.name === 'window');
          },
          45_000,
          500,
        );
      }
      const { fleetRate } = await collectStatus({
        config: { dbPath: db.url, redisUrl, queuePrefix: prefix },
      });
      const { requests } = await control<{ requests: RequestRecord[] }>('stats');
      const span = (requests.at(-1)?.at ?? 0) - (requests[0]?.at ?? 0);
      const stderr = `${requests.length} requests over ${span} ms; workers said:\n${workers.map((w) => w.stderr).join('\n')}`;

      // The budget held for the fleet, over a run long enough to mean it.
      expect(requests.length, stderr).toBeGreaterThan(100);
      const arrivals = requests.map((r) => r.at);
      expect(maxInAnySecond(arrivals), `${busiestSecond(arrivals)}; ${stderr}`).toBeLessThanOrEqual(RPS + 1);

      // The 429 paused every worker: nothing arrived during its Retry-After but what was already sent.
      const r429 = requests.find((r) => r.status === 429);
      expect(r429).toBeDefined();
      const early = requests.filter((r) => r.duringRetryAfter && r.at - (r429?.at ?? 0) > IN_FLIGHT_MS);
      expect(early.map((r) => `${r.path} +${r.at - (r429?.at ?? 0)} ms`)).toEqual([]);

      // The backfill completed: every job of the simulator is in the mirror.
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM jobs');
        expect(Number(rows[0]?.n)).toBe((await control<{ jobs: number }>('info')).jobs);
      } finally {
        await c.end();
      }

      // `status` reads the fleet's rate from the limiter's counts: the last 10 s were mostly the sweep's end.
      expect(fleetRate?.perSecond).toBeGreaterThan(1);
      expect(fleetRate?.peakPerSecond).toBeLessThanOrEqual(RPS + 1);
    } finally {
      for (const w of workers) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      workers.length = 0;
      await queue.close();
      redis.disconnect();
    }
  }, 110_000);
});
