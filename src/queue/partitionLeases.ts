/**
 * Partition leases across processes: the `PartitionGuard` of the worker (partitionLocks.ts), so that N workers
 * on N machines sharing one Redis and one mirror never run two tasks of one partition at once (DESIGN.md §9).
 *
 * A partition is held by a lease `partition:<partition>` in Redis (src/fleet/lease.ts: TTL `LEASE_TTL_MS`,
 * renewed every third of it, `signal` aborting when it is lost). Tasks of the same process queue on an
 * in-process lock first (FIFO, no polling), then take the lease, so only one task per process polls Redis for
 * a partition. The lease alone does not make writes safe (a holder paused past the TTL still writes): the
 * processor pairs every hold with a fencing token taken from the mirror (`fencing: true`).
 */
import type { Redis } from 'ioredis';
import { acquireLease, type HeldLease, type LeaseOptions, tryAcquireLease } from '../fleet/index.ts';
import { type PartitionGuard, type PartitionHold, PartitionLocks, type Release } from './partitionLocks.ts';

/** The lease name of a partition: `partition:head`, `partition:window:2026-11-01`. */
export const partitionLeaseName = (partition: string): string => `partition:${partition}`;

export interface PartitionLeaseOptions extends LeaseOptions {
  /** How often `acquire` polls a lease held elsewhere, ms. @default a tenth of the TTL, at least 50 */
  pollMs?: number;
}

export function redisPartitionLeases(redis: Redis, opts: PartitionLeaseOptions): PartitionGuard {
  const local = new PartitionLocks();
  const held = new Set<string>();
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
        const lease = await tryAcquireLease(redis, partitionLeaseName(partition), opts);
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
        const lease = await acquireLease(redis, partitionLeaseName(partition), {
          ...opts,
          ...(signal ? { signal } : {}),
        });
        return hold(partition, lease, unlock);
      } catch (err) {
        unlock();
        throw err;
      }
    },
    held: () => [...held].sort(),
  };
}
