/**
 * The zero-config demo: a real-time simulator of the Retab Jobs API, the mirror syncing it (the BullMQ
 * worker when Redis answers at REDIS_URL, else the same tasks on in-process timers), the local read API,
 * and a live view. Ends on Ctrl-C or after `durationSeconds`, with a last sync that brings the mirror level
 * with the (then frozen) simulator, and leaves the database behind to explore.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { sleep } from '../backoff.ts';
import type { Config } from '../config.ts';
import { createDispatcher, type MirrorDispatcher } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';
import { openStore, storeKindOf } from '../mirror/index.ts';
import { MirrorLocationError } from '../mirrorLocation.ts';
import { createSyncQueue, pingRedis, type RunningWorker, startWorker } from '../queue/index.ts';
import { createRetabClient } from '../retab/index.ts';
import { startServer } from '../server/index.ts';
import { type Simulator, startSimulator } from '../simulator/index.ts';
import type { SyncDeps } from '../sync/index.ts';
import { lastDays, syncOnce, taskConfigOf } from '../sync/index.ts';
import { captureLogLines, startProgressBar } from '../terminal.ts';
import { DemoAlreadyRunning, lockDemo, removePrefixKeys } from './demoLock.ts';
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
  /** Stopped (Ctrl-C) before the backfill finished: the mirror holds only part of the simulator's jobs. */
  interrupted: boolean;
}

/** Another demo (with another --db) whose worker runs under the same queue prefix would share its queue. */
async function refuseSharedPrefix(config: Config): Promise<void> {
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const queue = createSyncQueue(redis, config.queuePrefix);
  try {
    if ((await queue.getWorkersCount()) > 0)
      throw new DemoAlreadyRunning(
        `another demo's worker runs under the queue prefix ${config.queuePrefix} on ${config.redisUrl}; stop it first, or set QUEUE_PREFIX`,
      );
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/**
 * How to run this very CLI from the current folder for the demo's ready-to-paste queries: `node <launcher>`
 * (`bin/retab-mirror.js` in a checkout, `node_modules/.bin/retab-mirror` in a project; relative when it is
 * under the current folder), ~0.25 s to start where `npx` adds ~0.7 s of npm's own start-up (bench/startup.ts).
 * `npx retab-mirror` when the launcher is not known (a library caller) or lives in npx's cache.
 */
function cliCommand(): string {
  const launcher = process.argv[1];
  if (!launcher || !/retab-mirror(\.js)?$/.test(launcher) || launcher.includes('/_npx/'))
    return 'npx retab-mirror';
  const rel = relative(process.cwd(), launcher);
  const path = rel.startsWith('..') || isAbsolute(rel) ? launcher : rel;
  return `node ${/\s/.test(path) ? JSON.stringify(path) : path}`;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const dbPath = opts.dbPath ?? './data/demo.db';
  // The file lock and the fresh start are SQLite's (a file beside the mirror); a PostgreSQL database is
  // neither locked nor emptied: the demo then syncs into what it holds.
  const sqlite = storeKindOf(dbPath) === 'sqlite';
  // A folder is a bad setting, named as MIRROR_DB's is (openMirror.ts), not the EISDIR of the fresh start.
  if (sqlite && existsSync(dbPath) && statSync(dbPath).isDirectory()) {
    const abs = resolve(dbPath);
    throw new MirrorLocationError(`${abs} is a folder; point --db at a file, e.g. ${join(abs, 'demo.db')}`);
  }
  const release = sqlite ? lockDemo(dbPath) : () => {};
  try {
    return await demo(opts, dbPath);
  } finally {
    release();
  }
}

async function demo(opts: DemoOptions, dbPath: string): Promise<DemoResult> {
  const out = opts.out ?? process.stdout;
  const tty = out.isTTY === true;
  const say = (line: string) => out.write(`${line}\n`);
  const days = opts.days ?? 14;
  const stop = new AbortController();
  opts.signal?.addEventListener('abort', () => stop.abort(), { once: true });
  if (opts.durationSeconds) setTimeout(() => stop.abort(), opts.durationSeconds * 1000).unref();

  const queuePrefix = `${opts.config.queuePrefix}-demo`;
  // Refused before anything starts: the simulator's server and timers would keep a refused demo running.
  const redisAnswered = await pingRedis(opts.config.redisUrl);
  if (redisAnswered) await refuseSharedPrefix({ ...opts.config, queuePrefix });

  if (storeKindOf(dbPath) === 'sqlite')
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
    queuePrefix,
    alertRules: [],
    webhooks: [],
  };
  say(
    `Simulated Retab API at ${sim.url} with ${sim.store.size} jobs over ${days} days (new jobs every second).`,
  );

  const mirror: MirrorStore = await openStore(dbPath);
  const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url, logger: opts.logger });
  const deps: SyncDeps = { client, mirror, logger: opts.logger, signal: stop.signal };

  // 1. Backfill: one window per day (fetches overlap), then head/active/hydrate, with a progress bar.
  let requests = 0;
  const windowDays = lastDays(sim.clock.now(), days + 1);
  // Warnings logged during the backfill are printed above the bar, not into it (terminal.ts).
  const progress = tty
    ? startProgressBar(
        {
          format: 'Backfill [{bar}] {value}/{total} days · {jobs} jobs · {requests} requests',
          stream: out as NodeJS.WritableStream,
        },
        windowDays.length,
        0,
        { jobs: 0, requests: 0 },
      )
    : null;
  const bar = progress?.bar;
  const backfill = await syncOnce(
    { ...deps, onPage: (p) => (requests += p.requests) },
    {
      ...taskConfigOf(config),
      windowDays,
      windowConcurrency: 4,
      onTask: (e) => {
        if (bar) void mirror.jobs.count().then((jobs) => bar.update(e.windowsDone, { jobs, requests }));
        if (!tty && e.phase === 'end' && e.task === 'window')
          say(`backfill: ${e.windowsDone}/${e.windowsTotal} days`);
      },
    },
  );
  bar?.update(windowDays.length, { jobs: await mirror.jobs.count(), requests });
  progress?.stop();
  say(
    `Backfilled ${await mirror.jobs.count()} jobs in ${(backfill.durationMs / 1000).toFixed(1)} s with ${backfill.totals.requests} requests (${backfill.outcome}).`,
  );

  // 2. Keep it fresh: the BullMQ worker when Redis answers, else the same tasks on timers.
  let worker: RunningWorker | undefined;
  let scheduler: InProcessScheduler | undefined;
  let dispatcher: MirrorDispatcher | undefined;
  const mode: DemoResult['mode'] =
    !stop.signal.aborted && redisAnswered && (await pingRedis(config.redisUrl)) ? 'bullmq' : 'in-process';
  if (mode === 'bullmq') {
    worker = await startWorker({ config, logger: opts.logger, mirror, client });
    say(
      `Redis answered at ${config.redisUrl}: scheduled with the BullMQ worker (queue prefix ${config.queuePrefix}).`,
    );
  } else {
    if (!stop.signal.aborted)
      say(`No Redis at ${config.redisUrl}: running the same sync tasks in-process on timers.`);
    dispatcher = createDispatcher({ mirror, config, logger: opts.logger, redis: null, log: false });
    dispatcher.start();
    scheduler = startInProcessScheduler({ deps: { ...deps, onPage: () => dispatcher?.notify() }, config });
  }

  // 3. The local read API on its own read-only connection. Payloads a reader asks for and the mirror lacks
  // (PAYLOAD_MODE=request keeps no responses) are fetched from the simulator and stored, as `serve` does.
  const reader = await openStore(dbPath, { readonly: true });
  const upstream = { client, writer: mirror, logger: opts.logger };
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  const consoleOptions = { config, openWriter: () => openStore(dbPath) };
  try {
    server = await startServer({
      mirror: reader,
      config,
      logger: opts.logger,
      upstream,
      console: consoleOptions,
    });
  } catch {
    server = await startServer({
      mirror: reader,
      config: { ...config, serverPort: 0 },
      logger: opts.logger,
      upstream,
      console: consoleOptions,
    });
  }
  const address = server.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : config.serverPort}`;
  const batch = (await mirror.jobs.anyMetadataValue('batch_id')) ?? 'batch_001';
  const queries = [
    `curl -s '${base}/v1/jobs?status=failed&limit=5'`,
    `MIRROR_DB=${dbPath} ${cliCommand()} jobs list --metadata batch_id=${batch} --limit 10`,
    `MIRROR_DB=${dbPath} ${cliCommand()} stats --by endpoint`,
  ];
  const header = [
    `retab-mirror demo — ${mode === 'bullmq' ? 'BullMQ worker on Redis' : 'in-process timers (no Redis)'} · local API ${base} · Ctrl-C to stop`,
    `Console: ${base}/ (open it in a browser: charts, jobs, sync health, live events)`,
    '',
    'Try, in another terminal:',
    ...queries.map((q) => `  ${q}`),
  ];
  if (!tty) for (const line of header) say(line);

  // 4. The live view until Ctrl-C or --duration. Log lines (warnings) would be wiped by the next frame: the
  // latest ones are shown inside it, and all of them are printed again below it at the end.
  let lastLine = 0;
  const logged: string[] = [];
  const release = tty
    ? captureLogLines((line) => {
        logged.push(line);
        if (logged.length > 200) logged.shift();
      })
    : () => {};
  while (!stop.signal.aborted) {
    const snapshot = await liveSnapshot(mirror);
    const recentLogs = logged.length > 0 ? ['', 'Latest log lines:', ...logged.slice(-3)] : [];
    if (tty) out.write(`\x1b[H\x1b[2J${[renderFrame(snapshot, header, true), ...recentLogs].join('\n')}\n`);
    else if (Date.now() - lastLine >= 5000) {
      say(renderLine(snapshot));
      lastLine = Date.now();
    }
    await sleep(1000, stop.signal).catch(() => undefined);
  }

  // 5. Stop syncing, freeze the simulator, and bring the mirror level with it in one last pass.
  release();
  for (const line of logged) process.stderr.write(`${line}\n`);
  say('Stopping…');
  await worker?.close();
  await scheduler?.stop();
  sim.clock.freeze();
  const final = await syncOnce(
    { client, mirror, logger: opts.logger, now: () => sim.clock.now() },
    {
      ...taskConfigOf(config),
    },
  );
  await dispatcher?.drain().catch(() => undefined);
  await dispatcher?.stop();
  // The demo's schedulers, runs and events exist for the demo only: leave Redis as it was.
  // (Also after a stop during the backfill: the prefix check above wrote the queue's meta key.)
  if (redisAnswered) await removePrefixKeys(config.redisUrl, config.queuePrefix).catch(() => 0);
  const result: DemoResult = {
    mode,
    mirrorJobs: await mirror.jobs.count(),
    simulatorJobs: sim.store.size,
    dbPath,
    interrupted: backfill.outcome === 'aborted',
  };
  await server.close();
  await reader.close();
  await mirror.close();
  await sim.close();
  if (final.outcome !== 'success') say(`Last sync pass: ${final.outcome} (${final.error ?? 'no cause'})`);
  if (result.interrupted)
    say(
      `Backfill interrupted: the mirror holds ${result.mirrorJobs} of the simulator's ${result.simulatorJobs} jobs.`,
    );
  say(
    `Done: mirror ${result.mirrorJobs} jobs · simulator ${result.simulatorJobs} jobs · ${result.mode} mode. Explore ${dbPath}:`,
  );
  for (const q of queries.slice(1)) say(`  ${q}`);
  return result;
}
