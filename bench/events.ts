/**
 * Event delivery throughput, outbox → sink, against a baseline measured in the same run.
 *
 *   npx tsx bench/events.ts [--quick] [--events N]
 *
 * The outbox is filled first (untimed) with realistic `job.discovered` events (simulator jobs, same writer
 * as applyPage). Each path then runs a dispatcher with one sink from cursor 0 to the last seq:
 *
 * - emitter: outbox read + the typed emitter with one listener. Baseline: reading and parsing the same
 *   rows in batches (`readEventsAfter`), no dispatcher.
 * - BullMQ queue sink (`addBulk`, job id = event id). Baselines: raw ioredis `RPUSH` of the same JSON
 *   payloads in batches of the same size, and BullMQ `addBulk` of the same events without the dispatcher.
 * - webhooks, one signed POST per event to a local node:http receiver, through the webhook sink's per-job
 *   groups with 1 and 8 requests in flight. Baseline: raw `fetch` POSTs of the same bodies, 1 and 8 at a time.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); keys go under a unique prefix, removed after.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Dispatcher } from '../src/events/dispatcher.ts';
import { MirrorEvents } from '../src/events/mirrorEvents.ts';
import { queueJobId } from '../src/events/queueJobId.ts';
import { createEmitterSink } from '../src/events/sinks/emitterSink.ts';
import { createQueueSink } from '../src/events/sinks/queueSink.ts';
import { createWebhookSink } from '../src/events/sinks/webhookSink.ts';
import type { EventSink, MirrorEvent } from '../src/events/types.ts';
import { jobSnapshot } from '../src/mirror/jobToRow.ts';
import { openMirror } from '../src/mirror/openMirror.ts';
import { eventWriter } from '../src/mirror/outbox.ts';
import { readEventsAfter } from '../src/mirror/sqlite/outbox.ts';
import { generateJobs, toJob } from '../src/simulator/index.ts';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, events: { type: 'string' } },
});
const N = Number(values.events ?? (values.quick ? 2_000 : 20_000));
if (!Number.isInteger(N) || N <= 0) throw new Error('--events must be a positive integer');
const BATCH = 500;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const connection = { url: redisUrl };
const prefix = `bench-${randomUUID()}`;
const SECRET = 'bench-secret';

// --- fixtures (untimed) ---------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'retab-bench-events-'));
const mirror = openMirror(join(dir, 'mirror.db'));
const write = eventWriter(mirror);
const NOW = Date.UTC(2026, 10, 15);
mirror.sqlite.transaction(() => {
  for (const [i, rec] of generateJobs(7, N, 30, NOW).entries()) {
    const job = toJob(rec, 'org_bench', { includeRequest: false, includeResponse: false });
    write(
      job.id,
      'job.discovered',
      null,
      job.status,
      job.created_at * 1000,
      NOW + i,
      false,
      false,
      JSON.stringify(jobSnapshot(job)),
    );
  }
})();
const events: MirrorEvent[] = readEventsAfter(mirror, 0, N);
const bodies = events.map((e) => JSON.stringify(e));
const avgBytes = Math.round(bodies.reduce((s, b) => s + b.length, 0) / N);

const hits = new Map<string, number>();
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    res.writeHead(204);
    res.end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// --- helpers ----------------------------------------------------------------------------------------------
async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function dispatch(sink: EventSink): Promise<void> {
  const d = new Dispatcher({ mirror, sinks: [sink], batchSize: BATCH, closeSinks: false });
  await d.drain();
  await d.stop();
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const post = async (path: string, body: string) => {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  await res.text();
};

// Warm up fetch, HMAC and BullMQ's scripts so that neither the first path nor its baseline pays for JIT.
{
  await pool(300, 4, (i) => post('/warmup', bodies[i % N] ?? ''));
  const warm = new Queue('events-floor', { connection, prefix });
  await warm.addBulk(events.slice(0, 100).map((e) => ({ name: e.type, data: e })));
  await warm.obliterate({ force: true });
  await warm.close();
}

interface Row {
  path: string;
  ms: number;
  baseline: string;
  baselineMs: number;
}
const rows: Row[] = [];

// --- emitter ----------------------------------------------------------------------------------------------
{
  const emitter = new MirrorEvents();
  let seen = 0;
  emitter.on('job.discovered', () => {
    seen++;
  });
  const ms = await time(() => dispatch(createEmitterSink(emitter, 'emitter')));
  if (seen !== N) throw new Error(`emitter saw ${seen} of ${N}`);
  const baselineMs = await time(async () => {
    for (let after = 0, got = 1; got > 0; ) {
      const batch = readEventsAfter(mirror, after, BATCH);
      got = batch.length;
      after = batch.at(-1)?.seq ?? after;
    }
  });
  rows.push({
    path: 'outbox → emitter (1 listener)',
    ms,
    baseline: 'read + parse the outbox rows',
    baselineMs,
  });
}

// --- BullMQ queue sink --------------------------------------------------------------------------------------
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
{
  const sink = createQueueSink({ connection, prefix, queueName: 'events' });
  const ms = await time(() => dispatch(sink));
  const count = await sink.queue.getJobCountByTypes('waiting');
  if (count !== N) throw new Error(`events queue holds ${count} of ${N}`);
  await sink.close?.();

  const key = `${prefix}:raw-list`;
  const rpushMs = await time(async () => {
    for (let i = 0; i < N; i += BATCH) await redis.rpush(key, ...bodies.slice(i, i + BATCH));
  });
  rows.push({
    path: 'outbox → BullMQ queue sink',
    ms,
    baseline: `ioredis RPUSH, ${BATCH} per call`,
    baselineMs: rpushMs,
  });

  const floor = new Queue('events-floor', { connection, prefix });
  const addBulkMs = await time(async () => {
    for (let i = 0; i < N; i += BATCH) {
      await floor.addBulk(
        events
          .slice(i, i + BATCH)
          .map((e) => ({ name: e.type, data: e, opts: { jobId: queueJobId(e.eventId) } })),
      );
    }
  });
  await floor.close();
  rows.push({
    path: 'outbox → BullMQ queue sink',
    ms,
    baseline: `BullMQ addBulk, ${BATCH} per call`,
    baselineMs: addBulkMs,
  });
}

// --- webhooks ------------------------------------------------------------------------------------------------
for (const concurrency of [1, 8]) {
  const path = `/hook-c${concurrency}`;
  const target = { name: `hook-c${concurrency}`, url: `${base}${path}`, secret: SECRET };
  const ms = await time(() => dispatch(createWebhookSink({ target, mirror, concurrency })));
  if (hits.get(path) !== N) throw new Error(`receiver got ${hits.get(path)} of ${N}`);
  const rawMs = await time(() => pool(N, concurrency, (i) => post(`/raw-c${concurrency}`, bodies[i] ?? '')));
  rows.push({
    path: `outbox → webhook, per-job lanes, ${concurrency} in flight`,
    ms,
    baseline: `raw fetch POST, ${concurrency} at a time`,
    baselineMs: rawMs,
  });
}

// --- report + cleanup ---------------------------------------------------------------------------------------
const rate = (ms: number) => Math.round(N / (ms / 1000)).toLocaleString('en-US');
console.log(
  `\n${N.toLocaleString('en-US')} events, ~${avgBytes} B each, batches of ${BATCH}, Node ${process.version}\n`,
);
console.log('| path | events/s | baseline | baseline events/s | vs baseline |');
console.log('|---|---:|---|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.path} | ${rate(r.ms)} | ${r.baseline} | ${rate(r.baselineMs)} | ${(r.baselineMs / r.ms).toFixed(2)}× |`,
  );
}

for (const name of ['events', 'events-floor']) {
  const q = new Queue(name, { connection, prefix });
  await q.obliterate({ force: true });
  await q.close();
}
await redis.del(`${prefix}:raw-list`);
redis.disconnect();
server.closeAllConnections();
server.close();
mirror.close();
rmSync(dir, { recursive: true, force: true });
