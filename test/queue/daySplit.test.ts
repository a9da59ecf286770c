/**
 * The dense-day split through the queue (src/queue/windowSplit.ts): two workers on one PostgreSQL mirror and
 * one Redis prefix, one backfilled dense day. The day's window job queues the walk from its end as its own
 * window job, the other worker runs it, and the two meet: the mirror equals upstream's day, each job has one
 * `job.discovered` event, and the two runs together wrote each job once.
 */
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { openStore } from '../../src/mirror/index.ts';
import { enqueueBackfill } from '../../src/queue/backfill.ts';
import { SYNC_QUEUE } from '../../src/queue/jobData.ts';
import { createSyncQueue } from '../../src/queue/syncQueue.ts';
import { type RunningWorker, startWorker } from '../../src/queue/worker.ts';
import { dayBounds } from '../../src/retab/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import { dropPrefix, testConfig, waitFor } from './helpers.ts';

const redisUrl = inject('redisUrl');
const DAY = '2026-11-10';
const AT = Date.parse(`${DAY}T23:50:00Z`);
let sim: Simulator;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ seed: 5, jobs: 0, now: AT, rates: { arrivalsPerMinute: 0 }, latencyMs: 5 });
  // 1,200 jobs over five seconds of the day (bursts of equal created_at), then past midnight: a closed day.
  for (let s = 0; s < 5; s++) {
    for (let i = 0; i < 240; i++)
      sim.store.create({ endpoint: '/v1/documents/parse', request: { document: { filename: `d${i}.pdf` } } });
    sim.clock.advance(1000);
  }
  sim.clock.advance(15 * 60_000);
});

afterAll(async () => {
  await sim.close();
  await db.drop();
});

it('two workers sweep one dense day from both ends: every job once, one discovered event each', async () => {
  const config = testConfig(
    { redisUrl, sim, dbPath: db.url },
    { pageSize: 20, workerConcurrency: 1, eventsQueueEnabled: false },
  );
  const workers: RunningWorker[] = [];
  let mirror: MirrorStore | undefined;
  try {
    for (let i = 0; i < 2; i++)
      workers.push(
        await startWorker({ config, now: () => sim.clock.now(), schedulers: false, events: false }),
      );
    const [first] = workers;
    if (!first) throw new Error('no worker');
    await enqueueBackfill(first.queue, { from: DAY, to: DAY });
    mirror = await openStore(db.url);
    const m = mirror;
    await waitFor(
      'both walks of the day to be done',
      async () =>
        (await m.syncState.get(`window:${DAY}`))?.status === 'done' &&
        (await m.syncState.get(`window:${DAY}:desc`))?.status === 'done',
      { timeoutMs: 40_000, intervalMs: 100 },
    );

    const { start, end } = dayBounds(DAY);
    const upstream = sim.store.all().filter((j) => j.created_at >= start && j.created_at < end);
    expect(upstream).toHaveLength(1200);
    const ids: string[] = [];
    for await (const j of m.jobs.iterate({})) ids.push(j.id);
    expect(ids.sort()).toEqual(upstream.map((j) => j.id).sort());

    const discovered = new Map<string, number>();
    for (let seq = 0; ; ) {
      const batch = await m.outbox.after(seq, 1000);
      if (batch.length === 0) break;
      for (const e of batch) {
        if (e.type === 'job.discovered') discovered.set(e.jobId, (discovered.get(e.jobId) ?? 0) + 1);
        seq = e.seq;
      }
    }
    expect(discovered.size).toBe(1200);
    expect([...discovered.values()].every((n) => n === 1)).toBe(true);

    // Each walk did a real share, and together they wrote each job once (the jobs counted per partition).
    const asc = await m.syncState.get(`window:${DAY}`);
    const desc = await m.syncState.get(`window:${DAY}:desc`);
    expect(asc?.jobs).toBeGreaterThan(200);
    expect(desc?.jobs).toBeGreaterThan(200);
    expect((asc?.jobs ?? 0) + (desc?.jobs ?? 0)).toBe(1200);
  } finally {
    await mirror?.close();
    for (const w of workers) await w.close();
    await dropPrefix(redisUrl, config.queuePrefix);
  }
}, 60_000);

it('backfill again retries a walk from the end that gave up (the positions it claimed are its own)', async () => {
  const config = testConfig({ redisUrl, sim, dbPath: db.url });
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const queue = createSyncQueue(connection, config.queuePrefix);
  const failing = new Worker(
    SYNC_QUEUE,
    async () => {
      throw new UnrecoverableError('simulated: the tail gave up');
    },
    { connection, prefix: config.queuePrefix },
  );
  try {
    await queue.add(
      'window',
      { task: 'window', day: DAY, backfill: true, from: 'end' },
      { jobId: `window-${DAY}-desc` },
    );
    const tail = await waitFor('the tail to fail', async () => {
      const job = await queue.getJob(`window-${DAY}-desc`);
      return (await job?.getState()) === 'failed' ? job : undefined;
    });
    await failing.close();
    const again = await enqueueBackfill(queue, { from: DAY, to: DAY });
    expect(again.retried).toEqual([`window-${DAY}-desc`]);
    expect(await tail.getState()).toBe('waiting');
  } finally {
    await failing.close();
    await queue.close();
    await dropPrefix(redisUrl, config.queuePrefix);
  }
});
