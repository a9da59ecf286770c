import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConnectionError,
  InternalServerError,
  InvalidResponseError,
  RateLimitError,
  RetabApiError,
} from '../../src/retab/errors.ts';
import {
  backoffDelay,
  parseRetryAfter,
  type RetryPolicy,
  retryDelay,
  shouldRetry,
  sleep,
  withRetry,
} from '../../src/retab/retry.ts';

const policy: RetryPolicy = { maxRetries: 3, minRetryDelayMs: 1, maxRetryDelayMs: 4, maxRetryAfterMs: 50 };

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-01T12:00:00Z');
  it('reads delta-seconds, fractional seconds and an HTTP date', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfter(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Sun, 01 Nov 2026 12:00:03 GMT' }), now)).toBe(3000);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Sun, 01 Nov 2026 11:00:00 GMT' }), now)).toBe(1);
  });
  it('normalises every form once to an integer wait within [floor, cap]', () => {
    const bounds = { floorMs: 500, capMs: 60_000 };
    const wait = (h: Record<string, string>) => parseRetryAfter(new Headers(h), now, bounds);
    expect(wait({ 'retry-after': '0' })).toBe(500); // "now" still waits the floor (BullMQ refuses 0)
    expect(wait({ 'retry-after': 'Sun, 01 Nov 2026 11:59:00 GMT' })).toBe(500); // a date already passed
    expect(wait({ 'retry-after': '1.2345' })).toBe(1235); // fractional: an integer, rounded up
    expect(wait({ 'retry-after': '99999999999' })).toBe(60_000); // huge: the cap
    expect(wait({ 'retry-after-ms': '0.5' })).toBe(500);
    expect(wait({ 'retry-after-ms': '2500.2' })).toBe(2501);
    expect(wait({ 'retry-after': 'soon' })).toBeUndefined(); // garbage: the caller's backoff
    // Garbage that V8's lenient Date.parse would read as a date: neither "now" nor the longest wait.
    for (const g of ['foo 1', 'a 2099', 'later, 2030', 'Retry 12/31/2099', 'Sun, 01 Nov 2099'])
      expect(wait({ 'retry-after': g })).toBeUndefined();
    // The two older HTTP-date forms (RFC 850, asctime: GMT without saying so) are dates.
    expect(wait({ 'retry-after': 'Sunday, 01-Nov-26 12:00:05 GMT' })).toBe(5000);
    expect(wait({ 'retry-after': 'Sun Nov  1 12:00:07 2026' })).toBe(7000);
    expect(wait({ 'retry-after-ms': 'NaN', 'retry-after': '2' })).toBe(2000);
    for (const h of ['0', '0.0001', '1.5', '7e3', '1e400', 'Sun, 01 Nov 2026 12:00:00 GMT']) {
      const ms = wait({ 'retry-after': h });
      if (ms === undefined) continue;
      expect(Number.isInteger(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(500);
      expect(ms).toBeLessThanOrEqual(60_000);
    }
  });
  it('prefers retry-after-ms', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '150', 'retry-after': '9' }), now)).toBe(150);
  });
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers({ 'retry-after': '-3' }), now)).toBeUndefined();
  });
});

describe('the retry decision', () => {
  it('retries 408/409/429/5xx and transport failures, never other 4xx', () => {
    const status = (s: number) => new RetabApiError('x', { status: s });
    for (const s of [408, 409, 429, 500, 502, 503, 504]) expect(shouldRetry(status(s))).toBe(true);
    for (const s of [400, 401, 403, 404, 422]) expect(shouldRetry(status(s))).toBe(false);
    expect(shouldRetry(new ConnectionError('reset'))).toBe(true);
    expect(shouldRetry(new InvalidResponseError('cut', { status: 200, retryable: true }))).toBe(true);
    expect(shouldRetry(new InvalidResponseError('shape', { status: 200, retryable: false }))).toBe(false);
    expect(shouldRetry(new Error('plain'))).toBe(false);
  });

  it('backs off exponentially, capped, with at most 25% jitter off', () => {
    const p = { minRetryDelayMs: 500, maxRetryDelayMs: 8000 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, p, () => 0))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
    expect(backoffDelay(3, p, () => 1)).toBe(1500);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(2, p);
      expect(d).toBeGreaterThanOrEqual(750);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });

  it('uses the server wait when given, capped by maxRetryAfterMs', () => {
    const p = { ...policy, maxRetryAfterMs: 60_000 };
    expect(retryDelay(new RateLimitError('x', { status: 429, retryAfterMs: 2000 }), 1, p)).toBe(2000);
    expect(retryDelay(new RateLimitError('x', { status: 429, retryAfterMs: 600_000 }), 1, p)).toBe(60_000);
  });
});

describe('withRetry', () => {
  it('retries until success and reports each wait', async () => {
    const waits: number[] = [];
    let calls = 0;
    const out = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new InternalServerError('503', { status: 503 });
        return 'ok';
      },
      { policy, onRetry: (e) => waits.push(e.attempt) },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(3);
    expect(waits).toEqual([1, 2]);
  });

  it('gives up after maxRetries + 1 attempts, saying how many and the last cause', async () => {
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw new InternalServerError('503 Service Unavailable: busy (GET /jobs)', { status: 503 });
      },
      { policy },
    ).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as RetabApiError).attempts).toBe(4);
    expect((err as Error).message).toBe(
      'gave up after 4 attempts: 503 Service Unavailable: busy (GET /jobs)',
    );
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw new AuthenticationError('401', { status: 401 });
      },
      { policy },
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toBe('401');
  });

  it('waits the Retry-After itself, without p-retry backoff on top', async () => {
    const at: number[] = [];
    await withRetry(
      async () => {
        at.push(performance.now());
        if (at.length === 1) throw new RateLimitError('429', { status: 429, retryAfterMs: 40 });
        return 1;
      },
      { policy: { ...policy, minRetryDelayMs: 1000, maxRetryDelayMs: 1000 } },
    );
    const gap = (at[1] ?? 0) - (at[0] ?? 0);
    expect(gap).toBeGreaterThanOrEqual(39);
    expect(gap).toBeLessThan(900);
  });

  it('stops a sleeping retry at once when the signal aborts', async () => {
    const ac = new AbortController();
    const started = performance.now();
    const p = withRetry(
      async () => {
        throw new RateLimitError('429', { status: 429, retryAfterMs: 10_000 });
      },
      { policy: { ...policy, maxRetryAfterMs: 10_000 }, signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 20);
    const err = await p.catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('sleep rejects immediately on an already-aborted signal', async () => {
    await expect(sleep(10_000, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });
});
