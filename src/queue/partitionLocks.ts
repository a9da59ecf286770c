/**
 * Per-partition mutual exclusion for the sync processor. BullMQ's job ids and schedulers already keep a
 * partition from being queued twice, but a slow scheduled run can overlap the next tick when concurrency > 1,
 * and reconcile sweeps the same day windows a backfill job may be running: two writers on one partition would
 * interleave checkpoints.
 *
 * `PartitionGuard` is what the processor asks for; whoever builds the processor picks the implementation:
 * - `inProcessGuard()` (this file): an in-memory lock, enough when one process owns the mirror (tests, the
 *   library, the demo without a fleet);
 * - `redisPartitionLeases()` (partitionLeases.ts): leases in Redis that hold across processes and machines,
 *   with fencing tokens on the writes (the worker; DESIGN.md §9).
 */
export type Release = () => void;

/** A partition held by one task. */
export interface PartitionHold {
  /** Aborts when the hold is lost (a lease that lapsed while its holder was paused): stop writing then. */
  readonly signal?: AbortSignal;
  /** Give it up; idempotent, never rejects. */
  release(): Promise<void>;
}

export interface PartitionGuard {
  /**
   * Holds span processes, so each task's writes must carry a fencing token (`syncState.takeFence` when the
   * hold is taken; src/mirror/fence.ts). False for an in-process lock: its writes stay unconditional.
   */
  readonly fencing: boolean;
  /** Take `partition` only if nobody holds it: scheduled ticks skip a partition being swept elsewhere. */
  tryAcquire(partition: string): Promise<PartitionHold | undefined>;
  /** Wait for `partition` (window jobs: reconcile may be sweeping the same day). @throws the signal's reason. */
  acquire(partition: string, signal?: AbortSignal): Promise<PartitionHold>;
  /** The partitions this process holds now, sorted (for `status`). */
  held(): string[];
}

/** The in-process `PartitionGuard`: a `PartitionLocks` (no fencing: one process owns the mirror). */
export function inProcessGuard(locks: PartitionLocks = new PartitionLocks()): PartitionGuard {
  const held = new Set<string>();
  const hold = (partition: string, release: Release): PartitionHold => {
    held.add(partition);
    return {
      async release() {
        held.delete(partition);
        release();
      },
    };
  };
  return {
    fencing: false,
    async tryAcquire(partition) {
      const release = locks.tryAcquire(partition);
      return release && hold(partition, release);
    },
    async acquire(partition) {
      return hold(partition, await locks.acquire(partition));
    },
    held: () => [...held].sort(),
  };
}

export class PartitionLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Whether a task currently holds (or waits for) `partition`. */
  isBusy(partition: string): boolean {
    return this.tails.has(partition);
  }

  /** Take the lock only if it is free: scheduled ticks skip a partition that is already being swept. */
  tryAcquire(partition: string): Release | undefined {
    if (this.tails.has(partition)) return undefined;
    return this.hold(partition, Promise.resolve());
  }

  /** Wait for the lock (FIFO). */
  async acquire(partition: string): Promise<Release> {
    const previous = this.tails.get(partition) ?? Promise.resolve();
    const release = this.hold(partition, previous);
    await previous;
    return release;
  }

  private hold(partition: string, previous: Promise<void>): Release {
    let unlock!: () => void;
    const mine = new Promise<void>((r) => {
      unlock = r;
    });
    const tail = previous.then(() => mine);
    this.tails.set(partition, tail);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      unlock();
      // Last holder out clears the entry, so `isBusy` and `tryAcquire` see a free partition.
      if (this.tails.get(partition) === tail) this.tails.delete(partition);
    };
  }
}
