/** Fixtures for the queue tests: a config against the simulator and a private Redis prefix, temp mirrors, log capture. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { type Config, loadConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { type Mirror, openMirror } from '../../src/mirror/openMirror.ts';
import type { Simulator } from '../../src/simulator/index.ts';

export const SIM_NOW = Date.parse('2026-11-01T12:00:00Z');

/** A config for one test: the simulator as upstream, its own Redis prefix and mirror file. */
export function testConfig(
  opts: { redisUrl: string; sim?: Simulator; dbPath: string },
  over: Partial<Config> = {},
) {
  const base = loadConfig({ env: {}, dotenvFile: false });
  return {
    ...base,
    apiKey: opts.sim?.apiKey ?? 'sk-test-unused',
    baseUrl: opts.sim?.url ?? 'http://127.0.0.1:9/v1',
    dbPath: opts.dbPath,
    redisUrl: opts.redisUrl,
    queuePrefix: `test-${randomUUID()}`,
    logLevel: 'silent',
    maxRetries: 2,
    requestTimeoutMs: 5000,
    backfillDays: 3,
    rateLimitPerSecond: 200,
    workerConcurrency: 4,
    eventsQueueEnabled: false,
    // Long by default; tests that want ticks shorten them.
    headEveryMs: 60_000,
    activeEveryMs: 60_000,
    hydrateEveryMs: 60_000,
    reconcileEveryMs: 3_600_000,
    ...over,
  } satisfies Config;
}

export interface TempDir {
  dir: string;
  dbPath: string;
  open(): Mirror;
  cleanup(): void;
}

export function tempDir(): TempDir {
  const dir = mkdtempSync(join(tmpdir(), 'retab-queue-'));
  const opened: Mirror[] = [];
  const dbPath = join(dir, 'mirror.db');
  return {
    dir,
    dbPath,
    open() {
      const m = openMirror(dbPath);
      opened.push(m);
      return m;
    },
    cleanup() {
      for (const m of opened) m.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Delete every key of a BullMQ prefix (the queues a test created, their schedulers and jobs). */
export async function dropPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, {
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis already gone (the restart test's private server): nothing to clean.
  } finally {
    redis.disconnect();
  }
}

export interface CapturedLogs {
  logger: Logger;
  lines: Record<string, unknown>[];
}

/** A real pino logger whose JSON lines are kept for assertions. */
export function captureLogs(level = 'debug'): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger({ level, destination, pretty: false }), lines };
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number; onTick?: () => void | Promise<void> } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await opts.onTick?.();
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** Job ids whose mirrored status differs from the simulator's ground truth (missing ones included). */
export function statusDiff(
  sim: Simulator,
  mirror: Mirror,
  filter: (createdAt: number) => boolean = () => true,
) {
  const rows = mirror.sqlite.prepare('SELECT id, status FROM jobs').all() as { id: string; status: string }[];
  const mirrored = new Map(rows.map((r) => [r.id, r.status]));
  const diff: string[] = [];
  for (const job of sim.store.all()) {
    if (!filter(job.created_at)) continue;
    if (mirrored.get(job.id) !== job.status) diff.push(`${job.id}: ${mirrored.get(job.id)} vs ${job.status}`);
  }
  return diff;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
