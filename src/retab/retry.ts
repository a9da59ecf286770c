/**
 * The one retry decision of the client. An error is retried when it says so (`RetabApiError.retryable`:
 * 408, 409, 429, 5xx, resets, timeouts, cut-off bodies) and never otherwise. The wait is the server's
 * `retry-after-ms` / `Retry-After` when given, else capped exponential backoff with jitter.
 *
 * p-retry counts the attempts and stops on exhaustion; the waiting is done here, in `onFailedAttempt`, with an
 * abortable sleep, and p-retry's own backoff is set to zero so the two never stack.
 */
import { backoffMs, sleep } from '../backoff.ts';
import { RetabApiError } from './errors.ts';

export interface RetryPolicy {
  /** Retries after the first attempt (so `maxRetries + 1` attempts at most). */
  maxRetries: number;
  /** First backoff step. */
  minRetryDelayMs: number;
  /** Cap of the exponential backoff. */
  maxRetryDelayMs: number;
  /** Cap of a server-requested wait (`Retry-After`). */
  maxRetryAfterMs: number;
}

export interface RetryEvent {
  error: RetabApiError;
  /** The attempt that just failed (1-based). */
  attempt: number;
  delayMs: number;
}

export function shouldRetry(error: unknown): error is RetabApiError {
  return error instanceof RetabApiError && error.retryable;
}

/** Bounds a server-requested wait is normalised into: `[floorMs, capMs]`, integer milliseconds. */
export interface RetryAfterBounds {
  /** The least wait, even for `Retry-After: 0` or a date already passed (a server that says "now" is busy). */
  floorMs: number;
  /** The most (`maxRetryAfterMs`): a huge value waits this long, then the request is tried again. */
  capMs: number;
}

/** The floor when the policy gives none: queue pauses need at least 1 ms (Redis refuses `PX 0`). */
export const RETRY_AFTER_FLOOR_MS = 1;

/**
 * The wait a response asks for, normalised ONCE here to an integer number of milliseconds within
 * `[floorMs, capMs]`, so every consumer (the retry loop, the process-wide pause, BullMQ's `rateLimit`) gets a
 * value it can use as is. `retry-after-ms` (milliseconds, a non-standard header some APIs send) wins over
 * `Retry-After` (RFC 9110: delta-seconds or an HTTP date; fractional seconds are accepted). A value of 0 or
 * a date already passed gives the floor; a huge one the cap; fractions round up. Undefined when absent or
 * unreadable (`soon`, `-3`, `NaN`): the caller then uses its own backoff.
 */
export function parseRetryAfter(
  headers: Headers,
  now: number = Date.now(),
  bounds: RetryAfterBounds = { floorMs: RETRY_AFTER_FLOOR_MS, capMs: Number.MAX_SAFE_INTEGER },
): number | undefined {
  const raw = rawRetryAfterMs(headers, now);
  if (raw === undefined) return undefined;
  const floor = Math.max(RETRY_AFTER_FLOOR_MS, Math.ceil(bounds.floorMs));
  const cap = Math.max(floor, Math.floor(bounds.capMs));
  return Math.min(cap, Math.max(floor, Math.ceil(raw)));
}

const DECIMAL = /^\d+(\.\d+)?$/;

function rawRetryAfterMs(headers: Headers, now: number): number | undefined {
  const ms = headers.get('retry-after-ms')?.trim();
  if (ms && DECIMAL.test(ms)) return Number(ms);
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (DECIMAL.test(value)) return Number(value) * 1000;
  // Only an HTTP date in one of its three forms is parsed: V8's Date.parse reads almost anything as a date
  // ('-3', 'foo 1' = 2001, 'a 2099'), which would turn garbage into no wait or the longest one.
  const at = HTTP_DATE.some((re) => re.test(value))
    ? Date.parse(/GMT$/i.test(value) ? value : `${value} GMT`)
    : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** RFC 9110 §5.6.7: IMF-fixdate, obsolete RFC 850 and asctime (whose time is GMT without saying so). */
const HTTP_DATE = [
  /^[a-z]{3}, \d{1,2} [a-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/i,
  /^[a-z]{6,9}, \d{2}-[a-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/i,
  /^[a-z]{3} [a-z]{3} [ \d]?\d \d{2}:\d{2}:\d{2} \d{4}$/i,
];

/**
 * Exponential backoff for the given failed attempt (1-based), capped, with jitter taking up to 25% off so
 * a fleet of clients does not retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, 'minRetryDelayMs' | 'maxRetryDelayMs'>,
  random: () => number = Math.random,
): number {
  return backoffMs(
    attempt,
    { minMs: policy.minRetryDelayMs, maxMs: policy.maxRetryDelayMs, below: 0.25 },
    random,
  );
}

/** How long to wait before retrying after `error` failed `attempt`. */
export function retryDelay(error: RetabApiError, attempt: number, policy: RetryPolicy): number {
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, policy.maxRetryAfterMs);
  return backoffDelay(attempt, policy);
}

export { sleep } from '../backoff.ts';

export interface WithRetryOptions {
  policy: RetryPolicy;
  signal?: AbortSignal | undefined;
  /** Called before each wait (for logging). */
  onRetry?: (event: RetryEvent) => void;
}

/**
 * Run `attempt(n)` until it succeeds, fails with a non-retryable error, or `maxRetries` retries are spent.
 * The error that escapes carries `attempts`; when retries ran out its message starts with
 * "gave up after N attempts: " followed by the last cause.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  opts: WithRetryOptions,
): Promise<T> {
  const { policy, signal, onRetry } = opts;
  let attempts = 0;
  // Loaded on the first request: commands that only read the mirror (which import retab/ for the Job types
  // and errors) never load it (test/foundation/startupImports.test.ts).
  const { default: pRetry } = await import('p-retry');
  try {
    return await pRetry(
      (n) => {
        attempts = n;
        return attempt(n);
      },
      {
        retries: policy.maxRetries,
        // The wait happens in onFailedAttempt; p-retry must add none of its own.
        minTimeout: 0,
        maxTimeout: 0,
        randomize: false,
        ...(signal ? { signal } : {}),
        shouldRetry: ({ error }) => shouldRetry(error),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!shouldRetry(error) || retriesLeft <= 0) return;
          const delayMs = retryDelay(error, attemptNumber, policy);
          onRetry?.({ error, attempt: attemptNumber, delayMs });
          await sleep(delayMs, signal);
        },
      },
    );
  } catch (error) {
    if (error instanceof RetabApiError) {
      error.attempts = attempts;
      if (error.retryable && !signal?.aborted) {
        error.message = `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${error.message}`;
      }
    }
    throw error;
  }
}
