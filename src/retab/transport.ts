/**
 * One authenticated JSON GET with a per-attempt timeout, typed errors and the retry loop around it. The
 * client's methods are built on `getJson`; tests also use it to send a query the client would refuse.
 */
import type { AttemptInfo, RequestOptions } from './clientTypes.ts';
import {
  ConnectionError,
  errorFromResponse,
  InvalidResponseError,
  RetabApiError,
  TimeoutError,
} from './errors.ts';
import type { ResolvedClientOptions } from './options.ts';
import { parseRetryAfter, withRetry } from './retry.ts';

export interface JsonResponse {
  status: number;
  body: unknown;
  requestId: string | null;
}

export interface Transport {
  readonly requestCount: number;
  /** GET `baseUrl + path` with `query`, retried per the policy; resolves with the parsed 2xx JSON body. */
  getJson(path: string, query?: URLSearchParams, opts?: RequestOptions): Promise<JsonResponse>;
}

/** The cause chain's first `code` (undici puts ECONNRESET, UND_ERR_SOCKET… on `cause`). */
function causeCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 5 && e instanceof Error; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = e.cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  const code = causeCode(error);
  const msg = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${msg}${cause}${code ? ` (${code})` : ''}`;
}

export function createTransport(options: ResolvedClientOptions): Transport {
  const { apiKey, baseUrl, timeoutMs, logger, userAgent } = options;
  const doFetch = options.fetch;
  const log = logger.child({ component: 'retab-client' });
  let requestCount = 0;
  // Paces the attempts and holds the 429 pause: the process's by default, the fleet's when one is given.
  const limiter = options.requestLimiter;
  const retryAfterBounds = { floorMs: options.minRetryDelayMs, capMs: options.maxRetryAfterMs };
  // Errors built from upstream text could echo the key back; never let it out.
  const scrub = (text: string) => text.split(apiKey).join('[Redacted]');

  /** A transport failure (no usable answer): the caller's abort passes through untouched. */
  function transportError(
    error: unknown,
    timeout: AbortSignal,
    caller: AbortSignal | undefined,
    where: string,
    status: number | undefined,
  ) {
    if (caller?.aborted) return caller.reason ?? error;
    if (timeout.aborted) {
      return new TimeoutError(
        `no answer within ${timeoutMs} ms (${where}); raise timeoutMs if this persists`,
        {
          cause: error,
        },
      );
    }
    const what = status === undefined ? 'connection failed' : `${status} response body cut off`;
    return new ConnectionError(`${what}: ${scrub(describe(error))} (${where})`, { cause: error, status });
  }

  async function attemptOnce(url: URL, path: string, attempt: number, opts: RequestOptions) {
    const where = `GET ${path}`;
    await limiter.acquire(opts.signal);
    opts.onSend?.();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const started = performance.now();
    requestCount++;
    let status: number | undefined;
    let serverDate = Number.NaN;
    let result: JsonResponse;
    const report = (error?: Error) => {
      const durationMs = Math.round(performance.now() - started);
      log.debug({ method: 'GET', path, status, durationMs, attempt }, 'retab request');
      const info: AttemptInfo = { method: 'GET', path, attempt, durationMs };
      if (status !== undefined) info.status = status;
      if (Number.isFinite(serverDate)) info.serverDate = serverDate;
      if (error) info.error = error;
      opts.onAttempt?.(info);
    };
    try {
      const res = await doFetch(url, {
        method: 'GET',
        headers: { 'Api-Key': apiKey, 'User-Agent': userAgent, Accept: 'application/json' },
        signal,
      });
      status = res.status;
      serverDate = Date.parse(res.headers.get('date') ?? '');
      const text = await res.text();
      const requestId = res.headers.get('x-request-id');
      let body: unknown;
      let jsonOk = true;
      try {
        body = JSON.parse(text);
      } catch {
        jsonOk = false;
      }
      if (!res.ok) {
        const retryAfterMs = parseRetryAfter(res.headers, Date.now(), retryAfterBounds);
        if (res.status === 429) limiter.pause(retryAfterMs ?? options.minRetryDelayMs);
        const err = errorFromResponse({
          status: res.status,
          statusText: res.statusText,
          body,
          text: scrub(text),
          requestId,
          retryAfterMs,
          method: 'GET',
          path,
        });
        err.message = scrub(err.message);
        // A 404 of `…/jobs` with no `/v1/` in the path: the base URL lacks its version (Retab's is
        // https://api.retab.com/v1; a bare origin gets it from the config, a base URL with a path does not).
        if (res.status === 404 && url.pathname.endsWith('/jobs') && !url.pathname.includes('/v1/')) {
          const base = url.pathname.slice(0, -'/jobs'.length);
          err.message += `; RETAB_BASE_URL has no /v1: set it to ${url.origin}${base}/v1`;
        }
        throw err;
      }
      if (!jsonOk) {
        throw new InvalidResponseError(
          `${res.status} response body is not valid JSON (${text.length} bytes, likely cut off) (${where})`,
          { status: res.status, requestId, retryable: true },
        );
      }
      result = { status: res.status, body, requestId };
    } catch (error) {
      const err =
        error instanceof RetabApiError ? error : transportError(error, timeout, opts.signal, where, status);
      report(err instanceof Error ? err : undefined);
      throw err;
    }
    report();
    return result;
  }

  return {
    get requestCount() {
      return requestCount;
    },
    getJson(path, query, opts = {}) {
      const url = new URL(baseUrl + path);
      if (query) url.search = query.toString();
      return withRetry((attempt) => attemptOnce(url, path, attempt, opts), {
        policy: options,
        signal: opts.signal,
        onRetry: ({ error, attempt, delayMs }) =>
          log.warn(
            { method: 'GET', path, attempt, status: error.status, delayMs, err: error.message },
            'retrying',
          ),
      });
    },
  };
}
