/**
 * Leases in Redis: mutual exclusion that holds across processes and machines and ends by itself when its
 * holder dies. A lease is one key, `SET key value NX PX ttl`, whose value names the holder (`host:pid`) and a
 * random token; the holder renews it every third of its TTL with a compare-and-`PEXPIRE` and releases it with
 * a compare-and-`DEL` (Lua, so a holder can never extend or delete a lease someone else took over).
 *
 * A lease alone does not make writes safe: a holder paused longer than the TTL (GC, SIGSTOP, a network split)
 * still believes it holds it. Writers pair it with a fencing token checked by the store (see the partition
 * checkpoint's `fence`), and stop their work when `signal` aborts: it aborts when a renewal finds the lease
 * gone or taken, or when no renewal succeeded for half its TTL (Redis unreachable or hanging: two renewals
 * missed), whichever comes first — so a holder cut off from Redis stops before its key can expire.
 *
 * Keys: `<prefix>:fleet:lease:<name>`, e.g. `rm:fleet:lease:partition:head`, `rm:fleet:lease:lane:webhook:ops`.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { sleep } from '../backoff.ts';

/** Raised (as the abort reason of `HeldLease.signal`) when a lease was lost while held. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export interface LeaseOptions {
  /** The key prefix of the fleet (QUEUE_PREFIX). */
  prefix: string;
  /** Lifetime without renewal, ms; renewed every `ttlMs / 3` while held. */
  ttlMs: number;
  /** Who holds it, shown by `status`. @default `${hostname()}:${process.pid}` */
  owner?: string;
}

export interface HeldLease {
  /** The lease's name, e.g. `partition:head`. */
  readonly name: string;
  /** Aborts (reason: LeaseLostError) when the lease is lost; stop writing then. */
  readonly signal: AbortSignal;
  /** Give the lease up (compare-and-delete); idempotent, never throws. */
  release(): Promise<void>;
}

export interface LeaseInfo {
  name: string;
  /** `host:pid` of the holder. */
  owner: string;
  /** Milliseconds until it expires unless renewed. */
  ttlMs: number;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export function leaseKey(prefix: string, name: string): string {
  return `${prefix}:fleet:lease:${name}`;
}

export function defaultOwner(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Take the lease `name` if nobody holds it; `undefined` when someone does.
 * @throws the Redis error when Redis cannot be reached.
 */
export async function tryAcquireLease(
  redis: Redis,
  name: string,
  opts: LeaseOptions,
): Promise<HeldLease | undefined> {
  const key = leaseKey(opts.prefix, name);
  const value = `${opts.owner ?? defaultOwner()} ${randomBytes(9).toString('base64url')}`;
  // When the last successful SET/renewal was SENT: the key cannot expire before renewedAt + ttlMs.
  let renewedAt = performance.now();
  const ok = await redis.set(key, value, 'PX', opts.ttlMs, 'NX');
  if (ok !== 'OK') return undefined;

  const lost = new AbortController();
  let released = false;
  const lose = (why: string) => {
    if (!lost.signal.aborted) lost.abort(new LeaseLostError(`lease ${name} lost: ${why}`));
    clearInterval(timer);
  };
  const timer = setInterval(
    () => {
      if (released || lost.signal.aborted) return;
      // A renewal can hang rather than fail (a connection that queues commands while the network is cut).
      // Two renewals in a row without success (half a TTL since the last one was sent, checked every third)
      // lose the lease while the key still has a third of its TTL to live: the holder stops before another
      // process can take it over.
      if (performance.now() - renewedAt >= opts.ttlMs / 2)
        return lose('could not renew it in time (Redis unreachable or too slow)');
      const sentAt = performance.now();
      redis.eval(RENEW, 1, key, value, String(opts.ttlMs)).then(
        (n) => {
          if (Number(n) === 1) renewedAt = Math.max(renewedAt, sentAt);
          else lose('another holder took it over (this process was paused past the TTL?)');
        },
        () => {
          if (performance.now() - renewedAt >= opts.ttlMs / 2)
            lose('could not renew it in time (Redis unreachable)');
        },
      );
    },
    Math.max(50, Math.floor(opts.ttlMs / 3)),
  );
  timer.unref();
  return {
    name,
    signal: lost.signal,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await redis.eval(RELEASE, 1, key, value).catch(() => undefined); // expires by itself otherwise
    },
  };
}

/**
 * Wait for the lease `name`: poll every `pollMs` (default a tenth of the TTL, at least 50 ms) until it is free.
 * @throws the signal's reason when `signal` aborts first.
 */
export async function acquireLease(
  redis: Redis,
  name: string,
  opts: LeaseOptions & { signal?: AbortSignal; pollMs?: number },
): Promise<HeldLease> {
  const pollMs = opts.pollMs ?? Math.max(50, Math.floor(opts.ttlMs / 10));
  for (;;) {
    opts.signal?.throwIfAborted();
    const lease = await tryAcquireLease(redis, name, opts);
    if (lease) return lease;
    await sleep(pollMs, opts.signal);
  }
}

/** Every lease currently held in the fleet under `prefix` (for `status`), ordered by name. */
export async function listLeases(redis: Redis, prefix: string): Promise<LeaseInfo[]> {
  const base = leaseKey(prefix, '');
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const out: LeaseInfo[] = [];
  for (const key of keys.sort()) {
    const [value, ttl] = await Promise.all([redis.get(key), redis.pttl(key)]);
    if (value === null || ttl < 0) continue;
    out.push({ name: key.slice(base.length), owner: value.slice(0, value.lastIndexOf(' ')), ttlMs: ttl });
  }
  return out;
}
