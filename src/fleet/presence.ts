/**
 * Worker presence: each running worker publishes who it is and what it runs under
 * `<prefix>:fleet:worker:<host>:<pid>`, a JSON value with a TTL that the worker refreshes every third of it
 * (and at once when a task starts or ends). A graceful stop deletes the key; a worker that dies (SIGKILL, a
 * machine gone) disappears from `retab-mirror status` when the TTL runs out. The id is the same `host:pid`
 * that names a lease's owner (lease.ts), so `describeFleet` shows each worker with the leases it holds.
 *
 * Nothing here is needed for correctness (leases and fencing are): presence is what an operator sees.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { defaultOwner, type LeaseInfo, listLeases } from './lease.ts';

/** What a worker publishes about itself. */
export interface WorkerPresence {
  /** `host:pid`, as lease owners are named. */
  id: string;
  host: string;
  pid: number;
  /** Unix ms when the worker started. */
  startedAt: number;
  /** retab-mirror's version (package.json). */
  version: string;
  /** The mirror's kind, never its location (a postgres:// URL can carry a password). */
  mirror: 'sqlite' | 'postgres';
  /** WORKER_CONCURRENCY: tasks it runs at once at most. */
  concurrency: number;
  /** Partitions of the tasks running now, e.g. `['head', 'active:queued']`. */
  running: string[];
  /** Unix ms of the last refresh. */
  seenAt: number;
}

export interface PresenceOptions {
  /** The key prefix of the fleet (QUEUE_PREFIX). */
  prefix: string;
  /** Lifetime of the key without a refresh, ms. @default 15000 */
  ttlMs?: number;
  mirror: WorkerPresence['mirror'];
  concurrency: number;
  /** The partitions running now; read at each refresh. */
  running: () => string[];
}

export interface PublishedPresence {
  /** Publish again now (a task started or ended); never throws, never queues a second write. */
  touch(): void;
  /** Stop refreshing and delete the key; idempotent, never throws. */
  close(): Promise<void>;
}

export const DEFAULT_PRESENCE_TTL_MS = 15_000;

const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
})();

export function presenceKey(prefix: string, id: string): string {
  return `${prefix}:fleet:worker:${id}`;
}

/**
 * Publish this process as a worker of the fleet and keep it published until `close()`. The first write is
 * awaited (so `status` sees the worker as soon as it is up); later failures (Redis away) are ignored: the key
 * expires, and the next refresh after Redis returns publishes it again.
 * @throws the Redis error of the first write.
 */
export async function publishPresence(redis: Redis, opts: PresenceOptions): Promise<PublishedPresence> {
  const ttlMs = opts.ttlMs ?? DEFAULT_PRESENCE_TTL_MS;
  const id = defaultOwner();
  const key = presenceKey(opts.prefix, id);
  const base = {
    id,
    host: hostname(),
    pid: process.pid,
    startedAt: Date.now(),
    version: VERSION,
    mirror: opts.mirror,
    concurrency: opts.concurrency,
  };
  const write = () => {
    const value: WorkerPresence = { ...base, running: [...opts.running()].sort(), seenAt: Date.now() };
    return redis.set(key, JSON.stringify(value), 'PX', ttlMs);
  };
  let closed = false;
  let inFlight = false;
  let again = false;
  const refresh = () => {
    if (closed) return;
    if (inFlight) {
      again = true; // a command stuck while Redis reconnects must not pile up behind it
      return;
    }
    inFlight = true;
    write()
      .catch(() => undefined)
      .finally(() => {
        inFlight = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  };
  await write();
  const timer = setInterval(refresh, Math.max(100, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    touch: refresh,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await redis.del(key).catch(() => undefined);
    },
  };
}

/** A live worker as `status` shows it: its presence, how long it has run, and the leases it holds. */
export interface LiveWorker extends WorkerPresence {
  uptimeMs: number;
  leases: Omit<LeaseInfo, 'owner'>[];
}

export interface FleetView {
  /** Every worker whose presence has not expired, by host then pid. */
  workers: LiveWorker[];
  /** Leases whose owner has no live presence (a dead worker's, until their TTL ends). */
  orphanLeases: LeaseInfo[];
}

async function scanKeys(redis: Redis, match: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/** Every live worker under `prefix`, ordered by host then pid; values that do not parse are skipped. */
export async function listWorkers(redis: Redis, prefix: string): Promise<WorkerPresence[]> {
  const keys = await scanKeys(redis, presenceKey(prefix, '*'));
  const values = keys.length > 0 ? await redis.mget(...keys) : [];
  const out: WorkerPresence[] = [];
  for (const v of values) {
    if (v === null) continue; // expired between SCAN and MGET
    try {
      out.push(JSON.parse(v) as WorkerPresence);
    } catch {}
  }
  return out.sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid);
}

/** The live workers with their leases (grouped by owner `host:pid`), for `retab-mirror status`. */
export async function describeFleet(redis: Redis, prefix: string, now = Date.now()): Promise<FleetView> {
  const [workers, leases] = await Promise.all([listWorkers(redis, prefix), listLeases(redis, prefix)]);
  const ids = new Set(workers.map((w) => w.id));
  return {
    workers: workers.map((w) => ({
      ...w,
      uptimeMs: Math.max(0, now - w.startedAt),
      leases: leases.filter((l) => l.owner === w.id).map(({ name, ttlMs }) => ({ name, ttlMs })),
    })),
    orphanLeases: leases.filter((l) => !ids.has(l.owner)),
  };
}
