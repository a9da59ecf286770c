import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import type { AttemptInfo } from '../../src/retab/clientTypes.ts';
import {
  ConnectionError,
  InternalServerError,
  InvalidResponseError,
  TimeoutError,
} from '../../src/retab/errors.ts';
import { compareListingOrder } from '../../src/retab/jobFields.ts';
import type { RetabClientOptions } from '../../src/retab/options.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { captureLogger } from './logCapture.ts';

// Upstream failures the client must ride out (or give up on cleanly), over real loopback HTTP.
const apiKey = `sk-faults-${randomUUID()}`;
let sim: Simulator;
let listing: string[];

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, jobs: 2_000, apiKey, now: Date.parse('2026-11-01T12:00:00Z') });
  listing = sim.store
    .all()
    .sort((a, b) => compareListingOrder(a, b, 'desc'))
    .map((j) => j.id);
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.faults.clear();
  sim.stats.reset();
});

// Small backoff so the tests spend their time on what they check, not on sleeping.
function client(extra: Partial<RetabClientOptions> = {}) {
  return createRetabClient({ apiKey, baseUrl: sim.url, minRetryDelayMs: 5, maxRetryDelayMs: 20, ...extra });
}

async function ids(it: AsyncIterable<Job>): Promise<string[]> {
  const out: string[] = [];
  for await (const job of it) out.push(job.id);
  return out;
}

describe('retries against the simulator', () => {
  it('waits the full Retry-After of a 429 before the retry, and says so at warn', async () => {
    const log = captureLogger();
    sim.faults.set({ retryAfterSeconds: 2 });
    sim.faults.enqueue('http429');
    const page = await client({ logger: log.logger }).listJobs({ limit: 5 });
    expect(page.data.map((j) => j.id)).toEqual(listing.slice(0, 5));
    const [first, second] = sim.stats.requests;
    expect(sim.stats.total).toBe(2);
    expect(first?.status).toBe(429);
    expect(second?.status).toBe(200);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(second?.earlyRetry).toBeUndefined();
    const warn = log.records().find((r) => r.level === 40);
    expect(warn).toMatchObject({ msg: 'retrying', status: 429, delayMs: 2000, attempt: 1, path: '/jobs' });
  });

  it('completes a full walk through a 50% 5xx storm', async () => {
    sim.faults.set({ probabilities: { http500: 0.3, http502: 0.2 } });
    const c = client({ maxRetries: 12, minRetryDelayMs: 1, maxRetryDelayMs: 2 });
    expect(await ids(c.iterJobs({ limit: 100 }))).toEqual(listing);
    const failed = sim.stats.count((r) => r.status >= 500);
    expect(failed).toBeGreaterThan(5);
    expect(c.requestCount).toBe(sim.stats.total);
    expect(sim.stats.count((r) => r.status === 200)).toBe(20);
  });

  it('retries a reset connection, a cut-off body, invalid JSON and a timeout', async () => {
    sim.faults.set({ slowMs: 400 });
    sim.faults.enqueue('reset', 'truncated', 'invalid_json', 'slow');
    const attempts: AttemptInfo[] = [];
    const page = await client({ timeoutMs: 150 }).listJobs(
      { limit: 3 },
      { onAttempt: (a) => attempts.push(a) },
    );
    expect(page.data.map((j) => j.id)).toEqual(listing.slice(0, 3));
    expect(sim.stats.requests.map((r) => r.fault ?? 'none')).toEqual([
      'reset',
      'truncated',
      'invalid_json',
      'slow',
      'none',
    ]);
    expect(attempts.map((a) => [a.attempt, a.error?.constructor])).toEqual([
      [1, ConnectionError],
      [2, InvalidResponseError],
      [3, InvalidResponseError],
      [4, TimeoutError],
      [5, undefined],
    ]);
    expect(attempts[0]?.status).toBeUndefined();
    expect(attempts[4]?.status).toBe(200);
  });

  it('gives up after maxRetries, saying how many attempts and the last cause', async () => {
    sim.faults.set({ probabilities: { http500: 1 } });
    const c = client({ maxRetries: 2 });
    const err = await c.listJobs().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).attempts).toBe(3);
    expect((err as Error).message).toMatch(
      /^gave up after 3 attempts: 500 Internal Server Error: Internal server error/,
    );
    expect(sim.stats.total).toBe(3);
    expect(c.requestCount).toBe(3);
  });

  it('rejects within 100 ms when aborted during a Retry-After sleep', async () => {
    sim.faults.set({ retryAfterSeconds: 30 });
    sim.faults.enqueue('http429');
    const ac = new AbortController();
    let abortedAt = 0;
    const pending = client().listJobs(
      {},
      {
        signal: ac.signal,
        onAttempt: () =>
          setTimeout(() => {
            abortedAt = performance.now();
            ac.abort();
          }, 50),
      },
    );
    const err = await pending.catch((e: unknown) => e);
    const elapsed = performance.now() - abortedAt;
    expect((err as Error).name).toBe('AbortError');
    expect(abortedAt).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(100);
    expect(sim.stats.total).toBe(1);
  });
});

describe('malformed items', () => {
  it('reports the malformed item in rejected and returns the rest of its page', async () => {
    sim.faults.enqueue('malformed_item');
    const page = await client().listJobs({ limit: 20 });
    expect(page.data).toHaveLength(19);
    expect(page.rejected).toHaveLength(1);
    const [r] = page.rejected;
    expect(r?.index).toBe(9);
    expect(r?.reason).toMatch(/^(status|created_at): /);
    expect(r?.raw).toMatchObject({ object: 'job' });
    const merged = page.data.map((j) => j.id);
    merged.splice(r?.index ?? 0, 0, r?.id ?? '?');
    expect(merged).toEqual(listing.slice(0, 20));
    expect(page.last_id).toBe(listing[19]);
  });

  it('keeps walking past a page with a malformed item, losing only that item', async () => {
    sim.faults.enqueue('ok', 'malformed_item', 'malformed_item', 'malformed_item');
    const rejected: string[] = [];
    const got: string[] = [];
    for await (const page of client().iterPages({ limit: 100 })) {
      got.push(...page.data.map((j) => j.id));
      rejected.push(...page.rejected.map((r) => String(r.id)));
    }
    expect(rejected).toHaveLength(3);
    expect(got).toHaveLength(2_000 - 3);
    expect([...got, ...rejected].sort()).toEqual([...listing].sort());
  });
});
