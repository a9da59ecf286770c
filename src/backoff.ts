/**
 * Waiting between attempts, written once. The one backoff formula: capped exponential, `minMs · 2^(attempt − 1)` up to `maxMs`, for a 1-based
 * attempt, then scaled by a random factor in `[1 − below, 1 + above]` so a fleet of retries does not move in
 * lockstep. Used by the upstream client's retries (up to 25% off), Redis reconnects (no jitter), the event
 * dispatcher's lanes and the webhook sink's retries (±20%). The one abortable sleep: Node's
 * `timers/promises`.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface Backoff {
  /** First step, ms. */
  minMs: number;
  /** Cap before jitter, ms. */
  maxMs: number;
  /** Share the jitter may take off (0–1). @default 0 */
  below?: number;
  /** Share the jitter may add (0–1). @default 0 */
  above?: number;
}

/** Delay before retrying after failed `attempt` (1-based), in whole ms. `random` returns [0, 1). */
export function backoffMs(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const capped = Math.min(b.maxMs, b.minMs * 2 ** Math.max(0, attempt - 1));
  const below = b.below ?? 0;
  const above = b.above ?? 0;
  if (below === 0 && above === 0) return capped;
  return Math.round(capped * (1 + above - (below + above) * random()));
}

/**
 * Wait `ms`. When `signal` aborts (or has), rejects at once with Node's `AbortError` (`name === 'AbortError'`,
 * the signal's reason as `cause`); callers that must not fail on a stop write `.catch(() => undefined)`.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : {});
}
