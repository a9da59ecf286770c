/**
 * The zero-config demo: a real-time simulator of the Retab Jobs API, the mirror syncing it (the BullMQ
 * worker when Redis answers at REDIS_URL, else the same tasks on in-process timers), the local read API,
 * and a live view. Ends on Ctrl-C or after `durationSeconds`, with a last sync that brings the mirror level
 * with the (then frozen) simulator, and leaves the database behind to explore.
 */
import { rmSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import type { Config } from '../config.ts';
import { createDispatcher, type MirrorDispatcher } from '../events/index.ts';
import type { Logger } from '../log.ts';
import { type Mirror, openMirror } from '../mirror/openMirror.ts';
import { countJobs } from '../mirror/reads.ts';
import { pingRedis } from '../queue/redis.ts';
import { type RunningWorker, startWorker } from '../queue/worker.ts';
import { createRetabClient } from '../retab/client.ts';
import { startServer } from '../server/createServer.ts';
import { type Simulator, startSimulator } from '../simulator/index.ts';
import { lastDays } from '../sync/partitions.ts';
import { syncOnce } from '../sync/syncOnce.ts';
import type { SyncDeps } from '../sync/types.ts';
import { type InProcessScheduler, startInProcessScheduler } from './inProcessScheduler.ts';
import { liveSnapshot, renderFrame, renderLine } from './liveView.ts';

export interface DemoOptions {
  config: Config;
  logger: Logger;
  /** Stop after this many seconds; none = until Ctrl-C. */
  durationSeconds?: number;
  /** Jobs the simulator starts with. @default 3000 */
  jobs?: number;
  /** Days of history they span. @default 14 */
  days?: number;
  /** The demo's database (recreated at each start). @default ./data/demo.db */
  dbPath?: string;
  seed?: number;
  /** Where the view and messages go. @default process.stdout */
  out?: Writable & { isTTY?: boolean };
  /** Ends the demo early (Ctrl-C). */
  signal?: AbortSignal;
}

export interface DemoResult {
  mode: 'bullmq' | 'in-process';
  mirrorJobs: number;
  simulatorJobs: number;
  dbPath: string;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const out = opts.out ?? process.stdout;
  const tty = out.isTTY === true;
  const say = (line: string) => out.write(`${line}\n`);
  const dbPath = opts.dbPath ?? './data/demo.db';
  const days = opts.days ?? 14;
  const stop = new AbortController();
  opts.signal?.addEventListener('abort', () => stop.abort(), { once: true });
  if (opts.durationSeconds) setTimeout(() => stop.abort(), opts.durationSeconds * 1000).unref();

  for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
  const sim: Simulator = await startSimulator({
    seed: opts.seed ?? 1,
    jobs: opts.jobs ?? 3000,
    days,
    clock: 'realtime',
    // The names Retab sends since May 2026: its current clients refuse a job with an older name.
    endpointNames: 'current',
    rates: {
      arrivalsPerMinute: 60,
      retriesPerMinute: 6,
      failureRate: 0.12,
      inProgressSeconds: 8,
      queuedSeconds: 4,
    },
  });
  const config: Config = {
    ...opts.config,
    apiKey: sim.apiKey,
    baseUrl: sim.url,
    dbPath,
    backfillDays: days + 1,
    headEveryMs: 3000,
    activeEveryMs: 2000,
    hydrateEveryMs: 5000,
    queuePrefix: `${opts.config.queuePrefix}-demo`,
    alertRules: [],
    webhooks: [],
  };
  say(
    `Simulated Retab API at ${sim.url} with ${sim.store.size} jobs over ${days} days (new jobs every second).`,
  );

  const mirror: Mirror = openMirror(dbPath);
  const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url, logger: opts.logger });
  const deps: SyncDeps = { client, mirror, logger: opts.logger, signal: stop.signal };

  // 1. Backfill: one window per day (fetches overlap), then head/active/hydrate, with a progress bar.
  const bar = tty
    ? new SingleBar({
        format: 'Backfill [{bar}] {value}/{total} days · {jobs} jobs · {requests} requests',
        stream: out as NodeJS.WritableStream,
      })
    : null;
  let requests = 0;
  const windowDays = lastDays(sim.clock.now(), days + 1);
  bar?.start(windowDays.length, 0, { jobs: 0, requests: 0 });
  const backfill = await syncOnce(
    { ...deps, onPage: (p) => (requests += p.requests) },
    {
      pageSize: config.pageSize,
      payloadMode: config.payloadMode,
      overlapSeconds: config.headOverlapSeconds,
      backfillDays: config.backfillDays,
      activeStatuses: config.activeStatuses,
      windowDays,
      windowConcurrency: 4,
      onTask: (e) => {
        bar?.update(e.windowsDone, { jobs: countJobs(mirror), requests });
        if (!tty && e.phase === 'end' && e.task === 'window')
          say(`backfill: ${e.windowsDone}/${e.windowsTotal} days`);
      },
    },
  );
  bar?.update(windowDays.length, { jobs: countJobs(mirror), requests });
  bar?.stop();
  say(
    `Backfilled ${countJobs(mirror)} jobs in ${(backfill.durationMs / 1000).toFixed(1)} s with ${backfill.totals.requests} requests (${backfill.outcome}).`,
  );

  // 2. Keep it fresh: the BullMQ worker when Redis answers, else the same tasks on timers.
  let worker: RunningWorker | undefined;
  let scheduler: InProcessScheduler | undefined;
  let dispatcher: MirrorDispatcher | undefined;
  const mode: DemoResult['mode'] =
    !stop.signal.aborted && (await pingRedis(config.redisUrl)) ? 'bullmq' : 'in-process';
  if (mode === 'bullmq') {
    worker = await startWorker({ config, logger: opts.logger, mirror, client });
    say(
      `Redis answered at ${config.redisUrl}: scheduled with the BullMQ worker (queue prefix ${config.queuePrefix}).`,
    );
  } else {
    say(`No Redis at ${config.redisUrl}: running the same sync tasks in-process on timers.`);
    dispatcher = createDispatcher({ mirror, config, logger: opts.logger, redis: null, log: false });
    dispatcher.start();
    scheduler = startInProcessScheduler({ deps: { ...deps, onPage: () => dispatcher?.notify() }, config });
  }

  // 3. The local read API on its own read-only connection. Payloads a reader asks for and the mirror lacks
  // (PAYLOAD_MODE=request keeps no responses) are fetched from the simulator and stored, as `serve` does.
  const reader = openMirror(dbPath, { readonly: true });
  const upstream = { client, writer: mirror, logger: opts.logger };
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    server = await startServer({ mirror: reader, config, logger: opts.logger, upstream });
  } catch {
    server = await startServer({
      mirror: reader,
      config: { ...config, serverPort: 0 },
      logger: opts.logger,
      upstream,
    });
  }
  const address = server.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : config.serverPort}`;
  const batch =
    (
      mirror.sqlite.prepare("SELECT value FROM job_metadata WHERE key = 'batch_id' LIMIT 1").get() as
        | { value: string }
        | undefined
    )?.value ?? 'batch_001';
  const queries = [
    `curl -s '${base}/v1/jobs?status=failed&limit=5'`,
    `MIRROR_DB=${dbPath} npx retab-mirror jobs list --metadata batch_id=${batch} --limit 10`,
    `MIRROR_DB=${dbPath} npx retab-mirror stats --by endpoint`,
  ];
  const header = [
    `retab-mirror demo — ${mode === 'bullmq' ? 'BullMQ worker on Redis' : 'in-process timers (no Redis)'} · local API ${base} · Ctrl-C to stop`,
    '',
    'Try, in another terminal:',
    ...queries.map((q) => `  ${q}`),
  ];
  if (!tty) for (const line of header) say(line);

  // 4. The live view until Ctrl-C or --duration.
  let lastLine = 0;
  while (!stop.signal.aborted) {
    const snapshot = liveSnapshot(mirror);
    if (tty) out.write(`\x1b[H\x1b[2J${renderFrame(snapshot, header, true)}\n`);
    else if (Date.now() - lastLine >= 5000) {
      say(renderLine(snapshot));
      lastLine = Date.now();
    }
    await sleep(1000, stop.signal);
  }

  // 5. Stop syncing, freeze the simulator, and bring the mirror level with it in one last pass.
  say('Stopping…');
  await worker?.close();
  await scheduler?.stop();
  sim.clock.freeze();
  const final = await syncOnce(
    { client, mirror, logger: opts.logger, now: () => sim.clock.now() },
    {
      pageSize: config.pageSize,
      payloadMode: config.payloadMode,
      overlapSeconds: config.headOverlapSeconds,
      backfillDays: config.backfillDays,
      activeStatuses: config.activeStatuses,
    },
  );
  await dispatcher?.drain().catch(() => undefined);
  await dispatcher?.stop();
  const result: DemoResult = { mode, mirrorJobs: countJobs(mirror), simulatorJobs: sim.store.size, dbPath };
  await server.close();
  reader.close();
  mirror.close();
  await sim.close();
  if (final.outcome !== 'success') say(`Last sync pass: ${final.outcome} (${final.error ?? 'no cause'})`);
  say(
    `Done: mirror ${result.mirrorJobs} jobs · simulator ${result.simulatorJobs} jobs · ${result.mode} mode. Explore ${dbPath}:`,
  );
  for (const q of queries.slice(1)) say(`  ${q}`);
  return result;
}
