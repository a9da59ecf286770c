/**
 * Scale-out (issue #22): the same backfill by 1, 2 and 4 `retab-mirror worker` processes on one fresh
 * PostgreSQL database and one Redis prefix, against the simulator answering every `/v1` request after
 * 100 ms (`latencyMs`: a WAN-like upstream, so the bound is round trips, not this machine's 2 cores) with no
 * rate limit (`RATE_LIMIT_RPS` 10000). Each figure is a speedup against the 1-worker run of the same scenario
 * in the same run, with the fleet's achieved request rate (the simulator's request log over the same time).
 *
 * - 30 days, 60k jobs: one window job per day (`enqueueBackfill`), time until every window is done.
 *   Targets: ≥ 1.8× with 2 workers, ≥ 3.2× with 4.
 * - One dense day of 20k jobs, 1 and 2 workers: the day's window walks from its start and queues the walk from
 *   its end (src/sync/daySplit.ts), which the second worker takes. Target: ≥ 1.8× with 2 workers.
 *
 * Every worker runs `WORKER_CONCURRENCY` 1 (the same in every run): a process is the unit of capacity scaled
 * here, and a dense day splits into two walks, which one process with two task slots would already run side
 * by side. Pages of 50 (`PAGE_SIZE`) and `PAYLOAD_MODE=none` keep the fleet's write load (≤ ~2,000 jobs/s
 * into PostgreSQL at 4 workers) within what this shared machine sustains, so the figure measures the
 * scale-out and not the CPU. Schedulers tick once at start (head with `BACKFILL_DAYS=0`, active, hydrate;
 * reconcile is deferred); the clock starts after those ticks drained. Each run checks its result: the mirror
 * holds exactly upstream's jobs of those days, with one `job.discovered` event each.
 *
 *   npx tsx bench/scaleOut.ts [--quick] [--only spread|dense]
 *   (--quick: 12k jobs over 30 days, dense day of 4k, 1 and 2 workers; --only: one of the two scenarios)
 *
 * Prints markdown on stdout, and a `BENCH_JSON` line (bench/run.ts protocol).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createSyncQueue, enqueueBackfill } from '../src/queue/index.ts';
import { dayBounds } from '../src/retab/index.ts';
import { type Simulator, startSimulator } from '../src/simulator/index.ts';
import { backfillDays } from '../src/sync/index.ts';
import { withDatabase } from './pgBench.ts';

const LATENCY_MS = 100;
const PAGE = 50;
const CONCURRENCY = 1;
const DAY_MS = 86_400_000;
const bin = fileURLToPath(new URL('../bin/retab-mirror.js', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
if (values.only !== undefined && values.only !== 'spread' && values.only !== 'dense')
  throw new Error(`--only must be spread or dense, not ${values.only}`);
const quick = values.quick;
const SPREAD_JOBS = quick ? 12_000 : 60_000;
const DENSE_JOBS = quick ? 4_000 : 20_000;
const FLEETS = quick ? [1, 2] : [1, 2, 4];

interface RunResult {
  workers: number;
  seconds: number;
  requests: number;
  jobs: number;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function workerEnv(sim: Simulator, db: string, prefix: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(RETAB_|MIRROR_|REDIS_|QUEUE_|POLL_|LOG_|WORKER_|PAGE_|PAYLOAD_|RATE_|BACKFILL_)/.test(k))
      env[k] = v;
  }
  return {
    ...env,
    RETAB_BASE_URL: sim.url,
    RETAB_API_KEY: sim.apiKey,
    MIRROR_DB: db,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: String(CONCURRENCY),
    RATE_LIMIT_RPS: '10000',
    PAGE_SIZE: String(PAGE),
    PAYLOAD_MODE: 'none',
    BACKFILL_DAYS: '0',
    EVENTS_QUEUE_ENABLED: 'false',
    POLL_HEAD_MS: '3600000',
    POLL_ACTIVE_MS: '3600000',
    POLL_HYDRATE_MS: '3600000',
    POLL_RECONCILE_MS: '86400000',
    LOG_LEVEL: 'info',
  };
}

/** A `retab-mirror worker` child, resolved once it logged that it started. */
function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes('worker started')) {
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it started:\n${out}`)));
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Backfill `days` with `n` workers into a fresh database; time from enqueue until every window is done. */
async function backfillRun(sim: Simulator, days: string[], n: number, redis: Redis): Promise<RunResult> {
  return withDatabase(async (db) => {
    const prefix = `bench-scale-${randomUUID()}`;
    const env = workerEnv(sim, db, prefix);
    // The first worker creates the schema; the others start against it.
    const workers = [await startWorker(env)];
    workers.push(...(await Promise.all(Array.from({ length: n - 1 }, () => startWorker(env)))));
    const queueRedis = redis.duplicate(); // BullMQ does not close a connection it was handed
    const queue = createSyncQueue(queueRedis, prefix);
    const client = new pg.Client(db);
    await client.connect();
    try {
      // Let the start-up ticks (head, active, hydrate) drain before the clock starts (the schedulers' next ticks
      // wait in the delayed set, an hour away).
      await sleep(500);
      for (;;) {
        const c = await queue.getJobCounts('waiting', 'active', 'prioritized');
        if (Object.values(c).every((v) => v === 0)) break;
        await sleep(100);
      }
      const requests0 = sim.stats.total;
      const t0 = performance.now();
      await enqueueBackfill(queue, { from: days[0] as string, to: days[days.length - 1] as string });
      const partitions = days.map((d) => `window:${d}`);
      for (;;) {
        await sleep(100);
        const r = await client.query<{ n: string }>(
          "SELECT count(*) AS n FROM sync_state WHERE partition = ANY($1) AND status = 'done'",
          [partitions],
        );
        if (Number(r.rows[0]?.n) < partitions.length) continue;
        const pending = await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
        if (pending.some((j) => j?.name === 'window')) continue;
        break;
      }
      const seconds = (performance.now() - t0) / 1000;
      const requests = sim.stats.total - requests0;
      // The result: exactly upstream's jobs of those days, one `job.discovered` each.
      const lo = dayBounds(days[0] as string).start;
      const hi = dayBounds(days[days.length - 1] as string).end;
      const upstream = sim.store.all().filter((j) => j.created_at >= lo && j.created_at < hi).length;
      const got = await client.query<{ jobs: string; events: string; distinct_events: string }>(
        `SELECT (SELECT count(*) FROM jobs WHERE created_at >= $1 AND created_at < $2) AS jobs,
                (SELECT count(*) FROM job_events WHERE type = 'job.discovered') AS events,
                (SELECT count(DISTINCT job_id) FROM job_events WHERE type = 'job.discovered') AS distinct_events`,
        [lo, hi],
      );
      const row = got.rows[0];
      if (Number(row?.jobs) !== upstream || Number(row?.events) !== Number(row?.distinct_events))
        throw new Error(
          `${n} workers: mirror has ${row?.jobs} jobs of ${upstream} upstream, ${row?.events} discovered events for ${row?.distinct_events} jobs`,
        );
      return { workers: n, seconds, requests, jobs: upstream };
    } finally {
      await client.end();
      await Promise.all(workers.map(stopWorker));
      await queue.close();
      queueRedis.disconnect();
      await dropPrefix(redis, prefix);
    }
  });
}

function table(title: string, runs: RunResult[]): string {
  const base = runs[0] as RunResult;
  const rows = runs.map(
    (r) =>
      `| ${r.workers} | ${r.seconds.toFixed(1)} | **${(base.seconds / r.seconds).toFixed(2)}×** | ${r.requests} | ${(r.requests / r.seconds).toFixed(1)} | ${Math.round(r.jobs / r.seconds)} |`,
  );
  return [
    `${title}`,
    '',
    '| workers | seconds | speedup vs 1 | requests | fleet requests/s | jobs/s |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  const out: string[] = [];
  const json: Record<string, unknown> = {};
  try {
    // 30 days: jobs over the 30 days before now; the backfill covers every one of those days (the first one
    // partial) up to yesterday, closed by upstream's clock.
    const now = Date.now();
    const spreadRuns: RunResult[] = [];
    const days = backfillDays(dayOf(now - 30 * DAY_MS), dayOf(now - DAY_MS));
    if (values.only !== 'dense') {
      const spread = await startSimulator({
        seed: 22,
        jobs: SPREAD_JOBS,
        days: 30,
        now,
        latencyMs: LATENCY_MS,
        rates: { arrivalsPerMinute: 0 },
      });
      try {
        for (const n of FLEETS) {
          spreadRuns.push(await backfillRun(spread, days, n, redis));
          process.stderr.write(
            `scaleOut: ${days.length}-day backfill, ${n} worker(s): ${spreadRuns.at(-1)?.seconds.toFixed(1)} s\n`,
          );
        }
      } finally {
        await spread.close();
      }
      out.push(
        table(
          `**Backfill of ${days.length} days (${spreadRuns[0]?.jobs} jobs of ${SPREAD_JOBS}; the rest are today's), ${LATENCY_MS} ms per page, pages of ${PAGE}, WORKER_CONCURRENCY ${CONCURRENCY}**`,
          spreadRuns,
        ),
      );
    }

    // One dense day: every job created during yesterday (UTC); upstream's clock then moves past its midnight.
    const midnight = Date.parse(`${dayOf(now)}T00:00:00Z`);
    const denseRuns: RunResult[] = [];
    if (values.only !== 'spread') {
      const dense = await startSimulator({
        seed: 23,
        jobs: DENSE_JOBS,
        days: 1,
        now: midnight - 1000,
        latencyMs: LATENCY_MS,
        rates: { arrivalsPerMinute: 0 },
      });
      dense.clock.advance(60_000);
      const day = dayOf(midnight - DAY_MS);
      try {
        for (const n of [1, 2]) {
          denseRuns.push(await backfillRun(dense, [day], n, redis));
          process.stderr.write(
            `scaleOut: dense day, ${n} worker(s): ${denseRuns.at(-1)?.seconds.toFixed(1)} s\n`,
          );
        }
      } finally {
        await dense.close();
      }
      out.push(table(`**One dense day (${denseRuns[0]?.jobs} jobs on ${day}), same settings**`, denseRuns));
    }

    const speed = (runs: RunResult[], n: number) => {
      const r = runs.find((x) => x.workers === n);
      return r ? (runs[0] as RunResult).seconds / r.seconds : undefined;
    };
    const verdict = (v: number | undefined, target: number) =>
      v === undefined
        ? 'not run'
        : `${v.toFixed(2)}× (target ≥ ${target}×): ${v >= target ? 'met' : '**NOT met**'}`;
    out.push(
      [
        `- 2 workers, ${days.length} days: ${verdict(speed(spreadRuns, 2), 1.8)}`,
        `- 4 workers, ${days.length} days: ${verdict(speed(spreadRuns, 4), 3.2)}`,
        `- 2 workers, one dense day: ${verdict(speed(denseRuns, 2), 1.8)}`,
        '',
      ].join('\n'),
    );
    json.spread = spreadRuns;
    json.dense = denseRuns;
  } finally {
    redis.disconnect();
  }
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(`BENCH_JSON ${JSON.stringify({ scaleOut: json })}\n`);
}

await main();
