/**
 * One delivery lane per sink for the whole fleet (issue #22): dispatchers in several processes (each with
 * its own Redis connection and its own pool on one PostgreSQL mirror, as N workers run them) deliver each
 * sink from the one process holding its lease `lane:<sink>` (src/events/sinkLane.ts).
 *
 * - 3 dispatchers while events are appended: each event reaches each webhook (and the events queue, and the
 *   in-process emitter) exactly once, in outbox order.
 * - The holder is SIGKILLed mid-stream (a child process): another dispatcher takes the lane over within
 *   about a TTL, resumes from the stored cursor, and every event arrives at least once (exactly once up to
 *   that cursor), each job's events first arriving in outbox order.
 * - The holder is frozen (SIGSTOP) past its TTL mid-batch, then resumed: the lane went on without it, and
 *   the resumed process writes no cursor.
 * - A lane whose lease was taken over while its delivery was in flight (as after a pause past the TTL)
 *   sends nothing more and writes no cursor; it resumes from the stored cursor when it holds the lease again.
 * - The holder's Redis hangs (a network split through a frozen proxy): its lane stops within the TTL, before
 *   the other takes over, so no event is sent twice.
 * - `startWorker` takes the leases: two workers deliver each event once, and the other takes over on stop.
 *
 * Every cursor write is recorded by a trigger on `event_cursors`: none may move a cursor backwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { AlertRuleSchema } from '../../src/config.ts';
import { createDispatcher, type MirrorDispatcher } from '../../src/events/index.ts';
import { leaseKey, listLeases, tryAcquireLease } from '../../src/fleet/index.ts';
import type { Logger } from '../../src/log.ts';
import { type MirrorStore, openStore } from '../../src/mirror/index.ts';
import { startWorker } from '../../src/queue/index.ts';
import { appendTestEvents, waitFor } from '../events/helpers.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import { captureLogs, dropPrefix, testConfig } from '../queue/helpers.ts';
import { ROOT } from '../reliability/helpers.ts';

const redisUrl = inject('redisUrl');
const JOBS = 8;

interface Hit {
  seq: number;
  eventId: string;
  jobId: string;
  at: number;
}

/** A webhook receiver that records each POST; `hold` keeps the answers back until `release()`. */
async function receiver(opts: { delayMs?: number } = {}) {
  const hits: Hit[] = [];
  let held: (() => void)[] | null = null;
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const e = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      hits.push({ seq: e.seq, eventId: e.eventId, jobId: e.jobId, at: Date.now() });
      const answer = () => setTimeout(() => res.writeHead(204).end(), opts.delayMs ?? 0);
      if (held) held.push(answer);
      else answer();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits,
    hold: () => {
      held = [];
    },
    release: () => {
      for (const answer of held ?? []) answer();
      held = null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
type Receiver = Awaited<ReturnType<typeof receiver>>;

/** A TCP proxy to Redis that can freeze (a network split: nothing passes, nothing fails). */
async function redisProxy() {
  const target = new URL(redisUrl);
  const sockets: Socket[] = [];
  let frozen = false;
  const server = createTcpServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.push(client, upstream);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze: () => {
      frozen = true;
    },
  };
}

/** Everything a test opened, closed after it. */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A fresh mirror database with a trigger that records every cursor write (old seq, new seq). */
async function mirrorDb(): Promise<{ db: TestDatabase; store: MirrorStore; moves(): Promise<Move[]> }> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  const store = await openStore(db.url);
  cleanups.push(() => store.close());
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  cleanups.push(() => c.end());
  await c.query(`
    CREATE TABLE cursor_moves (id serial PRIMARY KEY, sink text, old_seq bigint, new_seq bigint);
    CREATE FUNCTION record_cursor_move() RETURNS trigger AS $$
      BEGIN INSERT INTO cursor_moves (sink, old_seq, new_seq) VALUES (NEW.sink, OLD.seq, NEW.seq); RETURN NEW; END
    $$ LANGUAGE plpgsql;
    CREATE TRIGGER cursor_moves BEFORE UPDATE ON event_cursors FOR EACH ROW EXECUTE FUNCTION record_cursor_move();
  `);
  return {
    db,
    store,
    moves: async () =>
      (
        await c.query<{ sink: string; old_seq: string; new_seq: string }>(
          'SELECT sink, old_seq, new_seq FROM cursor_moves ORDER BY id',
        )
      ).rows.map((r) => ({ sink: r.sink, from: Number(r.old_seq), to: Number(r.new_seq) })),
  };
}
interface Move {
  sink: string;
  from: number;
  to: number;
}

function freshPrefix(): string {
  const prefix = `test-lanes-${randomUUID()}`;
  cleanups.push(async () => {
    const r = new Redis(redisUrl);
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();
  });
  return prefix;
}

interface Member {
  owner: string;
  dispatcher: MirrorDispatcher;
  /** Event ids its in-process emitter got (the `emitter` sink has a lane too). */
  emitted: string[];
}

/** A dispatcher as a worker runs it: its own Redis connection and its own pool on the mirror. */
async function member(
  url: string,
  prefix: string,
  hooks: { name: string; url: string }[],
  ttlMs: number,
  owner: string,
  extra: { eventsQueue?: boolean; redisUrl?: string; logger?: Logger } = {},
): Promise<Member> {
  // As the worker's: commands wait (queued) while Redis is unreachable.
  const redis = new Redis(extra.redisUrl ?? redisUrl, { maxRetriesPerRequest: null });
  const mirror = await openStore(url);
  const dispatcher = createDispatcher({
    mirror,
    config: {
      webhooks: hooks.map((h) => ({ ...h, secret: 'lane-lease-secret' })),
      webhookSecret: undefined,
      alertRules: [
        AlertRuleSchema.parse({
          name: 'all',
          when: { includeBackfill: true },
          sinks: hooks.map((h) => h.name),
        }),
      ],
      eventsQueue: 'events',
      eventsQueueEnabled: extra.eventsQueue ?? false,
      queuePrefix: prefix,
    },
    redis: { connection: { url: redisUrl } },
    log: false,
    ...(extra.logger ? { logger: extra.logger } : {}),
    pollMs: 100,
    batchSize: 20,
    leases: (name) => tryAcquireLease(redis, name, { prefix, ttlMs, owner }),
    leaseRetryMs: Math.floor(ttlMs / 3),
  });
  const emitted: string[] = [];
  dispatcher.emitter.on('job.status_changed', (e) => {
    emitted.push(e.eventId);
  });
  cleanups.push(async () => {
    await dispatcher.stop();
    redis.disconnect();
    await mirror.close();
  });
  dispatcher.start();
  return { owner, dispatcher, emitted };
}

/** Append `n` events of JOBS interleaved jobs (job k gets every JOBS-th seq). */
const append = (store: MirrorStore, n: number) =>
  appendTestEvents(store, n, (i) => ({ job: { id: `job_lanes${String(i % JOBS).padStart(16, '0')}` } }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function firstArrivals(hits: Hit[]): Hit[] {
  const seen = new Set<string>();
  return hits.filter((h) => !seen.has(h.eventId) && seen.add(h.eventId));
}

/** Each job's events, as first received, are in outbox order. */
function expectPerJobOrder(hits: Hit[]): void {
  const byJob = new Map<string, number[]>();
  for (const h of firstArrivals(hits)) byJob.set(h.jobId, [...(byJob.get(h.jobId) ?? []), h.seq]);
  for (const seqs of byJob.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
}

const backwards = (moves: Move[]) => moves.filter((m) => m.to < m.from);

async function ownerOf(prefix: string, lease: string): Promise<string | undefined> {
  const r = new Redis(redisUrl);
  try {
    return (await listLeases(r, prefix)).find((l) => l.name === lease)?.owner;
  } finally {
    r.disconnect();
  }
}

/** A dispatcher in a child process (test/fleet/laneHolder.ts), once it holds `lane:<first hook>`. */
async function childHolder(
  url: string,
  prefix: string,
  hooks: { name: string; url: string }[],
  ttlMs: number,
) {
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test/fleet/laneHolder.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        MIRROR_URL: url,
        REDIS_URL: redisUrl,
        PREFIX: prefix,
        TTL_MS: String(ttlMs),
        HOOKS: JSON.stringify(hooks),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  cleanups.push(async () => {
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited;
  });
  const owner = `:${proc.pid}`;
  const lane = `lane:${hooks[0]?.name}`;
  await waitFor(
    async () => (await ownerOf(prefix, lane))?.endsWith(owner),
    20_000,
    'the child taking its lease',
  );
  return { process: proc, exited, owner };
}

describe('sink-lane leases across dispatchers (PostgreSQL mirror, Redis leases)', () => {
  it('3 dispatchers while events are appended: each event reaches each webhook exactly once, in order', async () => {
    const { db, store, moves } = await mirrorDb();
    const prefix = freshPrefix();
    const ops = await receiver();
    const audit = await receiver();
    cleanups.push(ops.close, audit.close);
    const hooks = [
      { name: 'ops', url: ops.url },
      { name: 'audit', url: audit.url },
    ];
    const members = await Promise.all(
      ['w1', 'w2', 'w3'].map((w) => member(db.url, prefix, hooks, 2000, `host:${w}`, { eventsQueue: true })),
    );
    const TOTAL = 180;
    for (let i = 0; i < 6; i++) {
      await append(store, TOTAL / 6);
      for (const m of members) m.dispatcher.notify();
      await sleep(150);
    }
    await waitFor(() => ops.hits.length >= TOTAL && audit.hits.length >= TOTAL, 20_000, 'every event');
    await sleep(700); // several polls and lease retries: a second lane would deliver again now
    const all = Array.from({ length: TOTAL }, (_, i) => i + 1);
    expect(ops.hits.map((h) => h.seq)).toEqual(all);
    expect(audit.hits.map((h) => h.seq)).toEqual(all);
    // The in-process emitter's lane is leased too: each event is emitted by one process only.
    expect(members.flatMap((m) => m.emitted)).toHaveLength(TOTAL);
    expect(new Set(members.flatMap((m) => m.emitted)).size).toBe(TOTAL);
    for (const lane of ['lane:ops', 'lane:audit', 'lane:emitter', 'lane:queue'])
      expect(members.map((m) => m.owner)).toContain(await ownerOf(prefix, lane));
    // The EVENTS_QUEUE sink still gets every event (once: its lane is leased, and job ids dedupe anyway).
    const q = new Queue('events', { connection: { url: redisUrl }, prefix });
    cleanups.push(() => q.close());
    expect((await q.getJobs(['waiting'], 0, -1, true)).map((j) => j.data.seq)).toEqual(all);
    expect((await store.cursors.get('queue'))?.seq).toBe(TOTAL);
    expect((await store.cursors.get('ops'))?.seq).toBe(TOTAL);
    expect(backwards(await moves())).toEqual([]);
    // Every member's view (status/drain) follows the stored cursor, delivering or not.
    for (const m of members) await m.dispatcher.drain({ timeoutMs: 5000 });
  });

  it('the lane holder is SIGKILLed: another dispatcher takes over within ~TTL from the stored cursor; every event at least once, in order', async () => {
    const TTL = 1500;
    const { db, store, moves } = await mirrorDb();
    const prefix = freshPrefix();
    const ops = await receiver({ delayMs: 5 });
    cleanups.push(ops.close);
    const hooks = [{ name: 'ops', url: ops.url }];
    await append(store, 60);

    // The first holder: a child process, so it can die for real (no release, no last write).
    const child = await childHolder(db.url, prefix, hooks, TTL);
    const others = await Promise.all(
      ['w2', 'w3'].map((w) => member(db.url, prefix, hooks, TTL, `host:${w}`)),
    );

    // Events keep coming while the holder delivers, dies, and is replaced.
    let appended = 60;
    const writer = (async () => {
      while (appended < 300) {
        await append(store, 10);
        appended += 10;
        await sleep(60);
      }
    })();
    await waitFor(() => ops.hits.length >= 80, 20_000, 'the child delivering');
    child.process.kill('SIGKILL');
    await child.exited;
    const killedAt = Date.now();
    const cursorAtKill = (await store.cursors.get('ops'))?.seq ?? 0;
    const newOwner = await waitFor(
      async () => {
        const o = await ownerOf(prefix, 'lane:ops');
        return o && !o.endsWith(child.owner) ? o : undefined;
      },
      10_000,
      'a takeover',
    );
    const takeoverMs = Date.now() - killedAt;
    expect(others.map((m) => m.owner)).toContain(newOwner);
    expect(takeoverMs).toBeLessThan(TTL + TTL / 3 + 1000);
    await writer;
    await waitFor(async () => (await store.cursors.get('ops'))?.seq === 300, 20_000, 'cursor at 300');

    const got = ops.hits.map((h) => h.seq);
    const count = (seq: number) => got.filter((s) => s === seq).length;
    for (let seq = 1; seq <= 300; seq++) {
      // Up to the stored cursor exactly once; after it at least once (the child may have sent some).
      if (seq <= cursorAtKill) expect(count(seq), `seq ${seq}`).toBe(1);
      else expect(count(seq), `seq ${seq}`).toBeGreaterThanOrEqual(1);
    }
    expect(cursorAtKill).toBeGreaterThan(0);
    expectPerJobOrder(ops.hits);
    // The new holder resumed at the stored cursor: its first delivery is seq cursorAtKill + 1.
    // (A POST the child finished sending just before it died can be recorded just after: skip 200 ms.)
    const afterTakeover = ops.hits.filter((h) => h.at >= killedAt + 200);
    expect(afterTakeover[0]?.seq).toBe(cursorAtKill + 1);
    expect(backwards(await moves())).toEqual([]);
    console.log(
      `lane takeover after SIGKILL: ${takeoverMs} ms (TTL ${TTL} ms); cursor at kill ${cursorAtKill}; re-sent ${got.length - 300}`,
    );
  });

  it('the holder frozen (SIGSTOP) past its TTL, then resumed: the lane moved on without it, and its late writes move no cursor', async () => {
    const TTL = 1000;
    const { db, store, moves } = await mirrorDb();
    const prefix = freshPrefix();
    const ops = await receiver({ delayMs: 20 });
    cleanups.push(ops.close);
    const hooks = [{ name: 'ops', url: ops.url }];
    await append(store, 100);
    const child = await childHolder(db.url, prefix, hooks, TTL);
    const b = await member(db.url, prefix, hooks, TTL, 'host:b');
    await waitFor(() => ops.hits.length >= 5, 10_000, 'the child delivering');
    child.process.kill('SIGSTOP'); // mid-batch: its POST in flight, its cursor write still to come
    await waitFor(async () => (await ownerOf(prefix, 'lane:ops')) === b.owner, 10_000, 'a takeover');
    await append(store, 20);
    b.dispatcher.notify();
    await waitFor(async () => (await store.cursors.get('ops'))?.seq === 120, 15_000, 'cursor at 120');
    const before = await moves();
    const hitsBefore = ops.hits.length;
    child.process.kill('SIGCONT');
    await sleep(1500);
    // The resumed child learnt it lost the lease: no cursor write, at most the POST it had in flight.
    expect(await moves()).toEqual(before);
    expect((await store.cursors.get('ops'))?.seq).toBe(120);
    expect(ops.hits.length - hitsBefore).toBeLessThanOrEqual(1);
    expect(await ownerOf(prefix, 'lane:ops')).toBe(b.owner);
    expect(new Set(ops.hits.map((h) => h.seq)).size).toBe(120);
    expectPerJobOrder(ops.hits);
    expect(backwards(before)).toEqual([]);
  });

  it('a lane that lost its lease mid-delivery (a pause past the TTL) writes no cursor after it, and resumes from the stored cursor', async () => {
    const TTL = 1000;
    const { db, store, moves } = await mirrorDb();
    const prefix = freshPrefix();
    const ops: Receiver = await receiver();
    cleanups.push(ops.close);
    await append(store, 50);
    ops.hold();
    const a = await member(db.url, prefix, [{ name: 'ops', url: ops.url }], TTL, 'host:a');
    await waitFor(() => ops.hits.length >= 1, 10_000, 'the first POST');
    expect((await store.cursors.get('ops'))?.seq).toBe(0);

    // While its POST hangs, the lease passes to someone else (as when its holder was paused past the TTL and
    // the key expired): its next renewal finds it taken.
    const redis = new Redis(redisUrl);
    cleanups.push(async () => redis.disconnect());
    await redis.set(leaseKey(prefix, 'lane:ops'), 'host:other x', 'PX', 60_000);
    await sleep(TTL / 3 + 300);
    ops.release();
    await sleep(1000);
    // The POST in flight was the last: the rest of its batch (seqs 2-20) was never sent.
    expect(ops.hits.map((h) => h.seq)).toEqual([1]);
    expect((await store.cursors.get('ops'))?.seq).toBe(0);
    expect((await moves()).filter((m) => m.sink === 'ops')).toEqual([]);
    expect(a.dispatcher.status().find((s) => s.sink === 'ops')?.cursor).toBe(0);

    // The other holder goes away without a write: the lane takes its lease again and resends from seq 1.
    await redis.del(leaseKey(prefix, 'lane:ops'));
    await waitFor(async () => (await store.cursors.get('ops'))?.seq === 50, 10_000, 'cursor at 50');
    expect(firstArrivals(ops.hits).map((h) => h.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(ops.hits.filter((h) => h.seq === 1)).toHaveLength(2);
    expect(backwards(await moves())).toEqual([]);
  });

  it("the holder's Redis hangs (a network split): its lane stops within the TTL, before another takes over", async () => {
    const TTL = 1000;
    const { db, store, moves } = await mirrorDb();
    const prefix = freshPrefix();
    const ops = await receiver();
    cleanups.push(ops.close);
    const hooks = [{ name: 'ops', url: ops.url }];
    const proxy = await redisProxy();
    const logs = captureLogs('info');
    await member(db.url, prefix, hooks, TTL, 'host:split', { redisUrl: proxy.url, logger: logs.logger });
    await waitFor(async () => (await ownerOf(prefix, 'lane:ops')) === 'host:split', 10_000, 'lease');
    const b = await member(db.url, prefix, hooks, TTL, 'host:b');
    await append(store, 20);
    await waitFor(async () => (await store.cursors.get('ops'))?.seq === 20, 10_000, 'cursor at 20');

    proxy.freeze();
    const frozenAt = Date.now();
    await waitFor(
      () => logs.lines.some((l) => /lost the lease of sink "ops"/.test(String(l.msg))),
      5000,
      'lost',
    );
    const stoppedMs = Date.now() - frozenAt;
    await waitFor(async () => (await ownerOf(prefix, 'lane:ops')) === b.owner, 10_000, 'a takeover');
    await append(store, 20);
    await waitFor(async () => (await store.cursors.get('ops'))?.seq === 40, 10_000, 'cursor at 40');
    await sleep(500);
    // The cut-off holder stopped before the other took over: nobody delivered twice.
    expect(ops.hits.map((h) => h.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Two missed renewals (src/fleet/lease.ts): it stops before its key can expire, i.e. within the TTL.
    expect(stoppedMs).toBeLessThan(TTL);
    console.log(`lane stopped ${stoppedMs} ms after its Redis froze (TTL ${TTL} ms)`);
    expect(backwards(await moves())).toEqual([]);
  });

  it('startWorker takes the lane leases: two workers on one mirror deliver each event once; the other takes over when one stops', async () => {
    const { db, store } = await mirrorDb();
    const ops = await receiver();
    cleanups.push(ops.close);
    const config = testConfig(
      { redisUrl, dbPath: db.url },
      { webhooks: [{ name: 'ops', url: ops.url, secret: 'lane-lease-secret' }], leaseTtlMs: 1500 },
    );
    cleanups.push(() => dropPrefix(redisUrl, config.queuePrefix));
    const start = () => startWorker({ config, schedulers: false });
    const workers = [await start(), await start()];
    cleanups.push(...workers.map((w) => () => w.close()));
    expect(await ownerOf(config.queuePrefix, 'lane:ops')).toBeDefined();
    await append(store, 40);
    await waitFor(() => ops.hits.length >= 40, 15_000, '40 events');
    await sleep(1200); // the other worker polls (500 ms) and retries the lease (TTL / 3) meanwhile
    expect(ops.hits.map((h) => h.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

    // Whichever worker holds the lane stops (and releases it): the other one delivers from the stored cursor.
    await workers[0]?.close();
    await append(store, 20);
    await waitFor(async () => (await store.cursors.get('ops'))?.seq === 60, 15_000, 'cursor at 60');
    expect(new Set(ops.hits.map((h) => h.seq)).size).toBe(60);
    expectPerJobOrder(ops.hits);
  });

  it('a SQLite worker (one writer, never a fleet) takes no lane lease: after a crash its restart delivers at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-sqlite-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const ops = await receiver();
    cleanups.push(ops.close);
    const config = testConfig(
      { redisUrl, dbPath: join(dir, 'mirror.db') },
      { webhooks: [{ name: 'ops', url: ops.url, secret: 'lane-lease-secret' }] },
    );
    cleanups.push(() => dropPrefix(redisUrl, config.queuePrefix));
    const worker = await startWorker({ config, schedulers: false });
    cleanups.push(() => worker.close());
    const store = await openStore(config.dbPath);
    cleanups.push(() => store.close());
    await append(store, 10);
    worker.dispatcher?.notify();
    await waitFor(() => ops.hits.length >= 10, 10_000, '10 events');
    expect(await ownerOf(config.queuePrefix, 'lane:ops')).toBeUndefined();
  });
});
