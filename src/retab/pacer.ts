/**
 * Spaces requests evenly at most `perSecond` a second (a leaky bucket without bursts): each caller is given
 * the next free slot and waits for it, abortably. One pacer per client, shared by every task of a process,
 * so concurrent tasks (hydrate, resolve, parallel windows) cannot together exceed the upstream rate.
 */
import { sleep } from '../backoff.ts';
export interface Pacer {
  /** Resolves when this request may go; rejects with the signal's reason when aborted first. */
  wait(signal?: AbortSignal): Promise<void>;
}

export function createPacer(
  perSecond: number | undefined,
  now: () => number = performance.now.bind(performance),
): Pacer {
  if (!perSecond || !Number.isFinite(perSecond) || perSecond <= 0) return { wait: async () => {} };
  const gapMs = 1000 / perSecond;
  let nextSlot = 0;
  return {
    wait(signal) {
      const t = now();
      const slot = Math.max(t, nextSlot);
      nextSlot = slot + gapMs;
      const delay = slot - t;
      if (delay <= 0) return Promise.resolve();
      // Rejects with the signal's own reason (the caller's "why"), not Node's generic AbortError.
      return sleep(delay, signal).catch((err: unknown) => {
        throw signal?.aborted ? signal.reason : err;
      });
    },
  };
}
