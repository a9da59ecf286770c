/**
 * Partition leases across processes: the `PartitionGuard` of the worker (partitionLocks.ts), so that N workers
 * on N machines sharing one Redis and one mirror never run two tasks of one partition at once (DESIGN.md §9).
 *
 * A partition is held by a lease `partition:<partition>` in Redis (src/fleet/lease.ts: TTL `LEASE_TTL_MS`,
 * renewed every third of it, `signal` aborting when it is lost). Tasks of the same process queue on an
 * in-process lock first (FIFO, no polling), then take the lease, so only one task per process polls Redis for
 * a partition. The lease alone does not make writes safe (a holder paused past the TTL still writes): the
 * processor pairs every hold with a fencing token taken from the mirror (`fencing: true`).
 *
 * A lease whose holder is a process of this host that no longer exists (a worker SIGKILLed and restarted by
 * PM2) is taken over at once instead of after its TTL: its owner says `host:pid`, and `kill(pid, 0)` says the
 * pid is gone. Taking over too early is still safe: the old holder's writes are fenced.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { sleep } from '../backoff.ts';
import { type HeldLease, type LeaseOptions, leaseKey, tryAcquireLease } from '../fleet/index.ts';
import { isProcessAlive } from '../processAlive.ts';
import { type PartitionGuard, type PartitionHold, PartitionLocks, type Release } from './partitionLocks.ts';

/** The lease name of a partition: `partition:head`, `partition:window:2026-11-01`. */
export const partitionLeaseName = (partition: string): string => `partition:${partition}`;

export interface PartitionLeaseOptions extends LeaseOptions {
  /** How often `acquire` polls a lease held elsewhere, ms. @default a tenth of the TTL, at least 50 */
  pollMs?: number;
}

const DELETE_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * Delete the lease at `key` if its holder is a dead process of this host (compare-and-delete: a lease renewed
 * or retaken meanwhile stays). True when it was deleted.
 */
async function clearDeadHolder(redis: Redis, key: string): Promise<boolean> {
  const value = await redis.get(key);
  if (value === null) return true;
  const owner = value.slice(0, value.lastIndexOf(' '));
  const at = owner.lastIndexOf(':');
  const pid = Number(owner.slice(at + 1));
  if (owner.slice(0, at) !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid)
    return false;
  if (isProcessAlive(pid)) return false;
  return Number(await redis.eval(DELETE_IF, 1, key, value)) === 1;
}

export function redisPartitionLeases(redis: Redis, opts: PartitionLeaseOptions): PartitionGuard {
  const local = new PartitionLocks();
  const held = new Set<string>();
  const pollMs = opts.pollMs ?? Math.max(50, Math.floor(opts.ttlMs / 10));
  /** The lease if free, or held by a dead process of this host; undefined when a live holder has it. */
  const take = async (partition: string): Promise<HeldLease | undefined> => {
    const name = partitionLeaseName(partition);
    const lease = await tryAcquireLease(redis, name, opts);
    if (lease || !(await clearDeadHolder(redis, leaseKey(opts.prefix, name)))) return lease;
    return tryAcquireLease(redis, name, opts);
  };
  const hold = (partition: string, lease: HeldLease, unlock: Release): PartitionHold => {
    held.add(partition);
    let released = false;
    return {
      signal: lease.signal,
      async release() {
        if (released) return;
        released = true;
        held.delete(partition);
        try {
          await lease.release();
        } finally {
          unlock();
        }
      },
    };
  };
  return {
    fencing: true,
    async tryAcquire(partition) {
      const unlock = local.tryAcquire(partition);
      if (!unlock) return undefined;
      try {
        const lease = await take(partition);
        if (lease) return hold(partition, lease, unlock);
      } catch (err) {
        unlock();
        throw err;
      }
      unlock();
      return undefined;
    },
    async acquire(partition, signal) {
      const unlock = await local.acquire(partition);
      try {
        for (;;) {
          signal?.throwIfAborted();
          const lease = await take(partition);
          if (lease) return hold(partition, lease, unlock);
          await sleep(pollMs, signal);
        }
      } catch (err) {
        unlock();
        throw err;
      }
    },
    held: () => [...held].sort(),
  };
}
