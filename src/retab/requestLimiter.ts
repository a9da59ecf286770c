/**
 * The seam between the client and "may this request go now?": every HTTP attempt (retries included) first
 * `acquire`s a turn, and a 429 calls `pause` so that no later request through the same limiter leaves before
 * its Retry-After has passed. The default (`processRequestLimiter`) is process-local: the pacer spaces the
 * requests of this process (`pacer.ts`) and a 429 pauses every client of the process that uses the same key
 * on the same upstream (`rateLimitPause.ts`). A fleet passes one that holds the budget in Redis instead
 * (`src/fleet/rateLimiter.ts`), so N processes share one `RATE_LIMIT_RPS` and one pause.
 */
import { createPacer } from './pacer.ts';
import { pauseLeft, pauseRequests, waitOutPause } from './rateLimitPause.ts';

export interface RequestLimiter {
  /**
   * Resolves when one request may be sent now: after any pause (429) has passed and at this request's paced
   * slot. Each call is one request's turn; a turn not used is simply lost.
   * @throws the signal's reason when `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<void>;
  /**
   * A 429 asked for `ms` of quiet (Retry-After, floored and capped by the client): no request through this
   * limiter is let go until `ms` from now. A longer pause already running is kept. Never throws.
   */
  pause(ms: number): void;
}

/** What a limiter is shared by: one upstream (base URL) and one API key. */
export interface LimiterScope {
  /** Base URL with its version, no trailing slash, e.g. `https://api.retab.com/v1`. */
  baseUrl: string;
  apiKey: string;
}

/** The key of the process-wide 429 pause of `scope` (rateLimitPause.ts); holds the API key, so never log it. */
function processPauseKey(scope: LimiterScope): string {
  return `${scope.baseUrl}\u0000${scope.apiKey}`;
}

/**
 * Today's process-local behaviour: at most `perSecond` requests a second from this limiter, evenly spaced
 * (undefined = unlimited), and a 429 pauses every request of the process to `scope`'s upstream with its key.
 */
export function processRequestLimiter(perSecond: number | undefined, scope: LimiterScope): RequestLimiter {
  const pacer = createPacer(perSecond);
  const pauseKey = processPauseKey(scope);
  return {
    async acquire(signal) {
      // Wait out a 429's pause, then for a pacer slot; a pause that began meanwhile is waited out too.
      do {
        await waitOutPause(pauseKey, signal);
        await pacer.wait(signal);
      } while (pauseLeft(pauseKey) > 0);
    },
    pause(ms) {
      pauseRequests(pauseKey, ms);
    },
  };
}
