/**
 * In-process, per-partition mutual exclusion. BullMQ's job ids and schedulers already keep a partition from
 * being queued twice, but a slow scheduled run can overlap the next tick when concurrency > 1, and reconcile
 * sweeps the same day windows a backfill job may be running: two writers on one partition would interleave
 * checkpoints. One worker process owns the mirror file, so an in-memory lock is enough.
 */
export type Release = () => void;

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
