/**
 * Partition leases across processes at the processor level: two processors, each with its own Redis connection
 * and its own pool on one PostgreSQL mirror (two workers as the fleet runs them), on the same partition. A
 * scheduled tick skips a partition leased elsewhere, a window waits for it; a task whose lease is lost stops
 * at its next page without writing, and a write it still attempts is refused by its fencing token. The next
 * holder resumes from what the previous one committed.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import type { Job as BullJob } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import { leaseKey, listLeases } from '../../src/fleet/index.ts';
import { type MirrorStore, openStore } from '../../src/mirror/index.ts';
import { redisPartitionLeases } from '../../src/queue/partitionLeases.ts';
import { createProcessor, type SyncJobResult } from '../../src/queue/processor.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import type { RunSummary } from '../../src/sync/index.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import { captureLogs, dropPrefix, SIM_NOW, testConfig, waitFor } from '../queue/helpers.ts';

const REDIS_URL = inject('redisUrl');
const DAY = '2026-10-31';
const PARTITION = `window:${DAY}`;
const TTL_MS = 600; // renewed every 200 ms: a lost lease is noticed within ~200 ms
const SLOW_MS = 200; // per list page; a window batch (5 pages) takes ~1 s

let db: TestDatabase;
let sim: Simulator;
const opened: { close(): Promise<void> | void }[] = [];
let prefix = '';

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({
    seed: 7,
    jobs: 450,
    days: 3,
    now: SIM_NOW,
    rates: { arrivalsPerMinute: 0 },
    faults: { probabilities: { slow: 1 }, slowMs: SLOW_MS, routes: ['list'] },
  });
});
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
  await dropPrefix(REDIS_URL, prefix);
});
afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

/** One worker's processor: its own Redis connection, its own store (pool) on the shared mirror. */
async function worker(name: string, onPage?: (store: MirrorStore) => void | Promise<void>) {
  const config = testConfig({ redisUrl: REDIS_URL, sim, dbPath: db.url }, { pageSize: 10, backfillDays: 1 });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const store = await openStore(db.url);
  opened.push({ close: () => void redis.disconnect() }, store);
  const logs = captureLogs('warn');
  const pages: { partition: string; at: number }[] = [];
  const guard = redisPartitionLeases(redis, { prefix, ttlMs: TTL_MS, owner: name });
  const processor = createProcessor({
    config,
    sync: {
      client: createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 1 }),
      mirror: store,
      logger: logs.logger,
      now: () => sim.clock.now(),
      onPage: (info) => {
        pages.push({ partition: info.partition, at: Date.now() });
        void onPage?.(store);
      },
    },
    shutdown: new AbortController().signal,
    locks: guard,
  });
  /** Job ids moved back to the delayed set (`job.moveToDelayed`), with BullMQ's token. */
  const requeued: string[] = [];
  const run = (data: Record<string, unknown>, token?: string): Promise<SyncJobResult> => {
    const id = `${name}-${data.task}`;
    const job = { id, name: String(data.task), data, moveToDelayed: async () => void requeued.push(id) };
    return processor(job as unknown as BullJob, token);
  };
  return { run, store, logs, pages, redis, guard, requeued };
}

function dayJobs(): number {
  const from = Date.parse(`${DAY}T00:00:00Z`) / 1000;
  return sim.store.all().filter((j) => j.created_at >= from && j.created_at < from + 86_400).length;
}

beforeAll(() => {
  expect(dayJobs()).toBeGreaterThan(100); // several batches of 5 pages of 10
});

it('a tick skips a partition leased by another process; a window waits for it', async () => {
  prefix = `test-fleet-b-${Date.now()}-1`;
  const a = await worker('a');
  const b = await worker('b');
  const first = a.run({ task: 'window', day: DAY, restart: true });
  await waitFor('a to commit a page', () => a.pages.length > 0);
  // Another process's tick on the same partition key steps aside (here: a head tick while a holds head).
  const head = a.run({ task: 'head' });
  await waitFor('a to hold head', async () => (await a.store.syncState.get('head'))?.fence === 1);
  expect(a.guard.held()).toEqual(['head', PARTITION]);
  expect(await listLeases(a.redis, prefix)).toMatchObject([
    { name: 'partition:head', owner: 'a' },
    { name: `partition:${PARTITION}`, owner: 'a' },
  ]);
  expect(await b.run({ task: 'head' })).toEqual({
    partition: 'head',
    outcome: 'skipped',
    reason: 'previous run still going',
  });
  // A window on a partition leased elsewhere waits, then sweeps after it.
  let aDone = 0;
  void first.then(() => {
    aDone = Date.now();
  });
  const second = b.run({ task: 'window', day: DAY, restart: true });
  const [ra, rb] = (await Promise.all([first, second])) as [RunSummary, RunSummary];
  await head;
  expect(a.guard.held()).toEqual([]);
  expect(b.guard.held()).toEqual([]);
  expect(await listLeases(a.redis, prefix)).toEqual([]);
  expect(ra.outcome).toBe('success');
  expect(rb.outcome).toBe('success');
  expect(aDone).toBeGreaterThan(0);
  const times = (w: typeof a) => w.pages.filter((p) => p.partition === PARTITION).map((p) => p.at);
  expect(Math.min(...times(b))).toBeGreaterThanOrEqual(aDone);
  expect(Math.max(...times(a))).toBeLessThanOrEqual(Math.min(...times(b)));
  expect(ra.jobs).toBe(dayJobs());
  expect(rb.jobs).toBe(dayJobs());
  // Each holder took its own token.
  expect((await a.store.syncState.get(PARTITION))?.fence).toBe(2);
}, 30_000);

it('a lost lease aborts the task at its next page, without a further write; the next holder resumes', async () => {
  prefix = `test-fleet-b-${Date.now()}-2`;
  const thief = `${prefix}:thief`;
  let stolenAt = 0;
  let atSteal: unknown;
  const a = await worker('a', async (store) => {
    if (stolenAt) return;
    stolenAt = Date.now();
    // Another process takes the lease over (as after a pause past the TTL), without a new token yet.
    await a.redis.set(leaseKey(prefix, `partition:${PARTITION}`), `${thief} x`, 'PX', 60_000);
    atSteal = await store.syncState.get(PARTITION);
  });
  const ra = (await a.run({ task: 'window', day: DAY, restart: true })) as RunSummary;
  const abortedAfterMs = Date.now() - stolenAt;
  expect(ra.outcome).toBe('aborted');
  expect(a.pages).toHaveLength(1);
  expect(abortedAfterMs).toBeLessThan(5 * SLOW_MS + 400); // before its next batch would have committed
  const after = await a.store.syncState.get(PARTITION);
  expect(after).toEqual(atSteal);

  // The lease expires (here: its holder gives it up); the next holder resumes from a's committed cursor.
  await a.redis.del(leaseKey(prefix, `partition:${PARTITION}`));
  const b = await worker('b');
  const rb = (await b.run({ task: 'window', day: DAY })) as RunSummary;
  expect(rb.outcome).toBe('success');
  expect(rb.jobs).toBe(dayJobs() - 50);
  expect((await b.store.syncState.get(PARTITION))?.status).toBe('done');
}, 30_000);

it('a window job whose lease was lost goes back to the delayed set (not an attempt), never left half-swept', async () => {
  prefix = `test-fleet-b-${Date.now()}-2b`;
  let stolen = false;
  const a = await worker('a', async () => {
    if (stolen) return;
    stolen = true;
    await a.redis.set(leaseKey(prefix, `partition:${PARTITION}`), 'thief:1 x', 'PX', 60_000);
  });
  await expect(a.run({ task: 'window', day: DAY, restart: true }, 'bullmq-token')).rejects.toMatchObject({
    name: 'DelayedError',
  });
  expect(a.requeued).toEqual(['a-window']);
}, 30_000);

it('a write after another worker took the partition over is refused by fencing: run skipped, warned once', async () => {
  prefix = `test-fleet-b-${Date.now()}-3`;
  let atSteal: unknown;
  const a = await worker('a', async (store) => {
    if (atSteal) return;
    atSteal = await store.syncState.get(PARTITION);
    // The new holder's token, while this process still believes it holds the lease (its renewals work).
    await store.syncState.takeFence(PARTITION);
  });
  const jobsBefore = await a.store.jobs.count();
  const eventsBefore = await a.store.outbox.count();
  const ra = await a.run({ task: 'window', day: DAY, restart: true });
  expect(ra).toEqual({
    partition: PARTITION,
    outcome: 'skipped',
    reason: 'fenced: another worker took the partition over',
  });
  expect(a.pages).toHaveLength(1);
  const after = await a.store.syncState.get(PARTITION);
  expect({ ...after, fence: 0 }).toEqual({ ...(atSteal as object), fence: 0 });
  expect(await a.store.jobs.count()).toBe(jobsBefore); // the restart re-listed known jobs only
  expect(await a.store.outbox.count()).toBe(eventsBefore);
  const warns = a.logs.lines.filter((l) => l.level === 40);
  expect(warns).toHaveLength(1);
  expect(warns[0]?.msg).toMatch(
    new RegExp(
      `write to partition ${PARTITION} refused: fencing token \\d+ is stale .*another worker took the partition over`,
    ),
  );
  expect(a.logs.lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
}, 30_000);

it('a lease held by a dead process of this host is taken over at once; a live holder is waited for', async () => {
  prefix = `test-fleet-b-${Date.now()}-4`;
  const a = await worker('a');
  const key = leaseKey(prefix, 'partition:head');
  const live = spawn('sleep', ['30']);
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => dead.once('exit', r));
  try {
    await a.redis.set(key, `${hostname()}:${live.pid} x`, 'PX', 60_000);
    expect(await a.run({ task: 'head' })).toMatchObject({ outcome: 'skipped' });
    // PM2 restarted a SIGKILLed worker: its leases would block their partitions for a whole TTL.
    await a.redis.set(key, `${hostname()}:${dead.pid} x`, 'PX', 60_000);
    expect(await a.run({ task: 'head' })).toMatchObject({ partition: 'head', outcome: 'success' });
  } finally {
    live.kill();
  }
}, 30_000);

it('reconcile takes each window’s own lease and token, and waits for a window leased elsewhere', async () => {
  prefix = `test-fleet-b-${Date.now()}-5`;
  const a = await worker('a');
  const b = await worker('b');
  const fences = async () =>
    new Map((await a.store.syncState.list('window:')).map((r) => [r.partition, r.fence] as const));
  const before = await fences();
  const held = b.run({ task: 'window', day: DAY, restart: true });
  await waitFor('b to sweep its window', () => b.pages.length > 0);
  const r = await a.run({ task: 'reconcile', days: 1 });
  expect(r).toMatchObject({ task: 'reconcile', outcome: 'success' });
  const after = await fences();
  const bumped = [...after].filter(([p, f]) => f !== (before.get(p) ?? 0));
  expect(bumped.map(([p]) => p)).toContain(PARTITION);
  expect(bumped).toHaveLength((r as { windows: number }).windows);
  for (const [p, f] of bumped) expect(f - (before.get(p) ?? 0)).toBe(p === PARTITION ? 2 : 1);
  // a's sweep of the busy day came after b's: it waited for the lease.
  const bLast = Math.max(...b.pages.map((p) => p.at));
  const aBusy = a.pages.filter((p) => p.partition === PARTITION).map((p) => p.at);
  expect(Math.min(...aBusy)).toBeGreaterThan(bLast);
  await held;
  expect(await a.store.syncState.get('reconcile')).toBeUndefined();
}, 30_000);
