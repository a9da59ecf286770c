/**
 * Worker presence: two `retab-mirror worker` children on one prefix and one PostgreSQL mirror both appear in
 * `retab-mirror status` (host, pid, uptime, running tasks, the leases each holds); a SIGKILLed one disappears
 * once its presence TTL (min(15 s, LEASE_TTL_MS)) runs out, a SIGTERMed one at once.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { tryAcquireLease } from '../../src/fleet/index.ts';
import { collectStatus, type StatusReport } from '../../src/queue/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import { dropPrefix, SIM_NOW, waitFor } from '../queue/helpers.ts';
import { type CliChild, cliEnv, runCli, spawnCli } from '../reliability/helpers.ts';

const redisUrl = inject('redisUrl');
const prefix = `test-presence-${randomUUID().slice(0, 8)}`;
const TTL_MS = 3000;
let sim: Simulator;
let db: TestDatabase;
let redis: Redis;

beforeAll(async () => {
  sim = await startSimulator({ seed: 9, jobs: 60, days: 2, now: SIM_NOW });
  db = await createTestDatabase();
  redis = new Redis(redisUrl);
});

afterAll(async () => {
  redis.disconnect();
  await sim.close();
  await db.drop();
  await dropPrefix(redisUrl, prefix);
});

const env = () =>
  cliEnv(sim, db.url, {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    LEASE_TTL_MS: String(TTL_MS),
    LOG_LEVEL: 'info',
    WORKER_CONCURRENCY: '2',
  });

async function status(): Promise<StatusReport> {
  const r = await runCli(['status', '--json'], env(), { timeoutMs: 30_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusReport;
}

it('status lists every live worker with host, pid and leases; a SIGKILLed one disappears after the TTL', async () => {
  const workers: CliChild[] = [];
  try {
    // One after the other: the first creates the PostgreSQL schema.
    for (let i = 0; i < 2; i++) {
      const w = spawnCli(['worker'], env(), { timeoutMs: 90_000 });
      workers.push(w);
      await waitFor(`worker ${i} to start`, () => w.stdout.includes('worker started'), { timeoutMs: 30_000 });
    }
    const [a, b] = workers as [CliChild, CliChild];
    // A lease held in b's name shows under b (the partition leases of fleet-b are taken the same way).
    const lease = await tryAcquireLease(redis, 'partition:test', {
      prefix,
      ttlMs: 20_000,
      owner: `${hostname()}:${b.child.pid}`,
    });
    expect(lease).toBeDefined();

    const report = await status();
    const live = report.fleet?.workers ?? [];
    expect(live.map((w) => w.pid).sort()).toEqual([a.child.pid, b.child.pid].sort());
    for (const w of live) {
      expect(w.host).toBe(hostname());
      expect(w.id).toBe(`${hostname()}:${w.pid}`);
      expect(w.mirror).toBe('postgres');
      expect(JSON.stringify(w)).not.toContain(db.url); // the kind, never the URL
      expect(w.concurrency).toBe(2);
      expect(w.uptimeMs).toBeGreaterThanOrEqual(0);
      expect(Array.isArray(w.running)).toBe(true);
    }
    const leasesOf = (pid: number | undefined) =>
      live.find((w) => w.pid === pid)?.leases.map((l) => l.name) ?? [];
    expect(leasesOf(b.child.pid)).toContain('partition:test');
    expect(leasesOf(a.child.pid)).not.toContain('partition:test');
    // Each sink lane (lane:<sink>) is held by one worker of the fleet, never by both.
    const lanes = [...leasesOf(a.child.pid), ...leasesOf(b.child.pid)].filter((n) => n.startsWith('lane:'));
    expect(new Set(lanes).size).toBe(lanes.length);

    const text = await runCli(['status'], env(), { timeoutMs: 30_000 });
    expect(text.stdout).toMatch(/Live workers\n.*HOST.*PID.*UP.*RUNNING.*LEASES/);
    expect(text.stdout).toMatch(new RegExp(`${hostname()}\\s+${b.child.pid}\\s.*partition:test`));
    expect(text.stdout).toMatch(new RegExp(`${hostname()}\\s+${a.child.pid}\\s`));

    // Running tasks: with slow upstream answers, a scheduled run shows in its worker's presence while it runs.
    sim.faults.set({ probabilities: { slow: 1 }, slowMs: 3000 });
    const busy = await waitFor(
      'a worker to report a running task',
      async () => {
        const r = await collectStatus({ config: { dbPath: db.url, redisUrl, queuePrefix: prefix } });
        return r.fleet?.workers.find((w) => w.running.length > 0);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    sim.faults.clear();
    expect(busy.running.length).toBeLessThanOrEqual(2);
    for (const p of busy.running) expect(p).toMatch(/^(head|active:\w+|hydrate|reconcile|window:.+)$/);

    // SIGKILL b: it cannot say goodbye; its presence and its lease expire by themselves.
    const killedAt = Date.now();
    b.child.kill('SIGKILL');
    await b.exited;
    await lease?.release(); // (held by this test process in b's name; a dead b would let it expire)
    const gone = await waitFor(
      'the killed worker to disappear from status',
      async () => {
        const r = await status();
        return !r.fleet?.workers.some((w) => w.pid === b.child.pid) && r;
      },
      { timeoutMs: TTL_MS + 15_000, intervalMs: 250 },
    );
    const disappearedMs = Date.now() - killedAt;
    console.log(`SIGKILLed worker gone from status after ${disappearedMs} ms (TTL ${TTL_MS} ms)`);
    expect(disappearedMs).toBeLessThan(TTL_MS + 10_000);
    expect(gone.fleet?.workers.map((w) => w.pid)).toEqual([a.child.pid]);

    // SIGTERM a: a graceful stop removes its presence at once.
    a.child.kill('SIGTERM');
    const stopped = await a.exited;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(await redis.keys(`${prefix}:fleet:worker:*`)).toEqual([]);
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
  }
}, 120_000);
