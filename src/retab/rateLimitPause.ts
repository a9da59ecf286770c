/**
 * The process-wide pause after a 429. A 429 says the *key* is rate-limited, not one request: every request of
 * the process to the same upstream with the same key waits until the Retry-After has passed, whichever task
 * sent it (prefetch, parallel windows, resolves, hydrate). One table per process, keyed by (base URL, key), so
 * two clients built from the same settings share it; the pacer (`pacer.ts`) spaces requests on top.
 *
 * Times are `performance.now()` milliseconds: a monotonic clock, so a wall-clock jump cannot shorten a pause.
 */
import { sleep } from '../backoff.ts';

const pausedUntil = new Map<string, number>();

/** Every request for `key` waits `ms` from now (a longer pause already running is kept). */
export function pauseRequests(key: string, ms: number): void {
  const until = performance.now() + ms;
  if ((pausedUntil.get(key) ?? 0) < until) pausedUntil.set(key, until);
}

/** Milliseconds left of the pause of `key`; 0 when none. */
export function pauseLeft(key: string): number {
  const until = pausedUntil.get(key);
  if (until === undefined) return 0;
  const left = until - performance.now();
  if (left <= 0) pausedUntil.delete(key);
  return Math.max(0, Math.ceil(left));
}

/** Resolves once `key` is not paused (at once when it is not); rejects with the signal's reason on abort. */
export async function waitOutPause(key: string, signal?: AbortSignal): Promise<void> {
  for (let left = pauseLeft(key); left > 0; left = pauseLeft(key)) await sleep(left, signal);
}
