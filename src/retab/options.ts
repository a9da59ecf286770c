/**
 * The client's options, their defaults in one place, and their validation at construction: a client that
 * was built is a client that can send requests.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { type Logger, registerSecret, silentLogger } from '../log.ts';
import { RetabConfigError } from './errors.ts';
import { type LimiterScope, processRequestLimiter, type RequestLimiter } from './requestLimiter.ts';
import type { RetryPolicy } from './retry.ts';

export interface RetabClientOptions {
  /**
   * The Retab API key, sent as the `Api-Key` header. Conventionally read from `RETAB_API_KEY` by the
   * caller's config (this library reads no environment). Required, never logged.
   */
  apiKey: string | undefined;
  /**
   * Base URL including the version prefix. A bare origin (`https://api.retab.com`, the form Retab's clients
   * take in `RETAB_API_BASE_URL` since May 2026) gets `/v1` appended.
   * @default 'https://api.retab.com/v1'
   */
  baseUrl?: string;
  /**
   * Timeout of one HTTP attempt (headers and body), in milliseconds. A timed-out attempt is retried.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Retries after the first attempt for retryable failures (408, 409, 429, 5xx, resets, timeouts).
   * @default 5
   */
  maxRetries?: number;
  /**
   * First step of the exponential backoff, in milliseconds.
   * @default 500
   */
  minRetryDelayMs?: number;
  /**
   * Cap of the exponential backoff, in milliseconds.
   * @default 8000
   */
  maxRetryDelayMs?: number;
  /**
   * Cap of a server-requested wait (`Retry-After` / `retry-after-ms`), in milliseconds.
   * @default 60000
   */
  maxRetryAfterMs?: number;
  /**
   * At most this many HTTP attempts a second from this client, evenly spaced (retries included). Set it to
   * stay under the upstream's rate limit; 429s are still honoured on top.
   * @default unlimited
   */
  maxRequestsPerSecond?: number;
  /**
   * Decides when each HTTP attempt may leave and honours 429 pauses (`requestLimiter.ts`). Either a limiter
   * or a function that builds one for this client's upstream and key (the base URL given with its `/v1`).
   * When set, it alone paces requests: `maxRequestsPerSecond` is then the limiter's business.
   * @default processRequestLimiter(maxRequestsPerSecond): paced per process, a 429 pauses this process
   */
  requestLimiter?: RequestLimiter | ((scope: LimiterScope) => RequestLimiter);
  /**
   * The fetch implementation.
   * @default globalThis.fetch (Node's undici, which keeps connections alive)
   */
  fetch?: typeof fetch;
  /**
   * Where request (debug) and retry (warn) lines go.
   * @default silentLogger
   */
  logger?: Logger;
}

export const CLIENT_DEFAULTS = {
  baseUrl: 'https://api.retab.com/v1',
  timeoutMs: 30_000,
  maxRetries: 5,
  minRetryDelayMs: 500,
  maxRetryDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
} as const;

export interface ResolvedClientOptions extends RetryPolicy {
  apiKey: string;
  /** Without a trailing slash. */
  baseUrl: string;
  timeoutMs: number;
  fetch: typeof fetch;
  logger: Logger;
  userAgent: string;
  /** Undefined = unlimited. */
  maxRequestsPerSecond: number | undefined;
  requestLimiter: RequestLimiter;
}

const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const USER_AGENT = `retab-mirror/${VERSION}`;

const ms = z.number().int().nonnegative();
const NumbersSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://api.retab.com/v1' }),
  timeoutMs: z.number().int().positive(),
  maxRetries: z.number().int().min(0).max(100),
  minRetryDelayMs: ms,
  maxRetryDelayMs: ms,
  maxRetryAfterMs: ms,
  maxRequestsPerSecond: z.number().positive().optional(),
});

/**
 * Without a trailing slash, and with `/v1` when the URL names only an origin: Retab's clients before May 2026
 * took the base URL with `/v1`, the later ones without (they put `/v1` in each path), and users copy either.
 */
export function withVersion(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return new URL(trimmed).pathname.replace(/\/+$/, '') === '' ? `${trimmed}/v1` : trimmed;
}

/** Fill defaults and validate; throws `RetabConfigError` naming the option (or RETAB_API_KEY) to fix. */
export function resolveClientOptions(opts: RetabClientOptions): ResolvedClientOptions {
  const apiKey = opts.apiKey?.trim();
  if (!apiKey) {
    throw new RetabConfigError(
      'No Retab API key: set RETAB_API_KEY (or pass apiKey to createRetabClient). Create a key in the Retab dashboard.',
    );
  }
  registerSecret(apiKey);
  const merged = {
    baseUrl: opts.baseUrl ?? CLIENT_DEFAULTS.baseUrl,
    timeoutMs: opts.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
    maxRetries: opts.maxRetries ?? CLIENT_DEFAULTS.maxRetries,
    minRetryDelayMs: opts.minRetryDelayMs ?? CLIENT_DEFAULTS.minRetryDelayMs,
    maxRetryDelayMs: opts.maxRetryDelayMs ?? CLIENT_DEFAULTS.maxRetryDelayMs,
    maxRetryAfterMs: opts.maxRetryAfterMs ?? CLIENT_DEFAULTS.maxRetryAfterMs,
    maxRequestsPerSecond: opts.maxRequestsPerSecond,
  };
  const parsed = NumbersSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new RetabConfigError(`Invalid Retab client option ${lines.join('; ')}`);
  }
  const o = parsed.data;
  if (o.minRetryDelayMs > o.maxRetryDelayMs) {
    throw new RetabConfigError(
      `Invalid Retab client option minRetryDelayMs: ${o.minRetryDelayMs} exceeds maxRetryDelayMs ${o.maxRetryDelayMs}`,
    );
  }
  const baseUrl = withVersion(o.baseUrl);
  const scope = { baseUrl, apiKey };
  const given = opts.requestLimiter;
  return {
    ...o,
    apiKey,
    baseUrl,
    requestLimiter:
      given === undefined
        ? processRequestLimiter(o.maxRequestsPerSecond, scope)
        : typeof given === 'function'
          ? given(scope)
          : given,
    fetch: opts.fetch ?? globalThis.fetch,
    logger: opts.logger ?? silentLogger,
    userAgent: USER_AGENT,
    maxRequestsPerSecond: o.maxRequestsPerSecond,
  };
}
