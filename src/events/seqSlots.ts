/**
 * A counting semaphore that hands a free slot to the waiter with the lowest outbox seq first, so that
 * concurrent per-job delivery groups (sinks/webhookSink.ts) still send in seq order whenever nothing is being retried.
 */
export class SeqSlots {
  #free: number;
  readonly #waiters: { seq: number; resolve: () => void }[] = [];

  constructor(slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`slots must be an integer >= 1, got ${slots}`);
    this.#free = slots;
  }

  /** Wait for a slot; rejects with the signal's reason when it aborts first. */
  acquire(seq: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0 && this.#waiters.length === 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        seq,
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let i = this.#waiters.findIndex((w) => w.seq > seq);
      if (i < 0) i = this.#waiters.length;
      this.#waiters.splice(i, 0, waiter);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next.resolve();
    else this.#free++;
  }
}
