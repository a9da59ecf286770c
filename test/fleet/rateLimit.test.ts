/**
 * One upstream budget for the fleet: three `retab-mirror worker` processes on one PostgreSQL mirror, one
 * Redis and one QUEUE_PREFIX, with RATE_LIMIT_RPS=10, sweep a backfill of 10 days (~110 list pages, ~11 s at
 * 10/s). The simulator's request log shows at most 11 requests (10 + 1 for timer jitter) in every 1-second
 * sliding window — per-process pacing would let ~30/s through — and the backfill completes. A 429 with
 * Retry-After: 2 answered to one worker mid-way: no worker sends anything until it has passed (beyond requests
 * already on the wire), and `status` reports the fleet's request rate from the limiter's counts.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/mirror/index.ts';
import { collectStatus, createSyncQueue, enqueueBackfill } from '../../src/queue/index.ts';
import { utcDay } from '../../src/retab/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import {
  type CliChild,
  cliEnv,
  dropPrefix,
  onArrival,
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

describe('fleet rate limit', () => {
  let sim: Simulator;
  let db: TestDatabase;
  const prefix = uniquePrefix();
  const workers: CliChild[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ seed: 22, jobs: 2000, days: 10, rates: { arrivalsPerMinute: 0 } });
    db = await createTestDatabase();
    // Migrate once here: three workers starting together would race to create the schema.
    await (await openStore(db.url)).close();
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await sim.close();
    await db.drop();
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

      sim.faults.set({ retryAfterSeconds: RETRY_AFTER_S });
      const unhook = onArrival(sim, (_rec, index) => {
        if (index === 40) sim.faults.enqueue('http429');
      });
      const nowS = Math.floor(sim.clock.now() / 1000);
      const started = Date.now();
      let ids: string[];
      try {
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
      } finally {
        unhook();
      }
      // Read after the sweep, not during it: the simulator shares this event loop and must answer on time.
      const { fleetRate } = await collectStatus({
        config: { dbPath: db.url, redisUrl, queuePrefix: prefix },
      });
      const requests = sim.stats.requests.filter((r) => r.at >= started);
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
        expect(Number(rows[0]?.n)).toBe(sim.store.all().length);
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
