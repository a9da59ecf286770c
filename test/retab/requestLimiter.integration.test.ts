/**
 * The client's `requestLimiter` seam (src/retab/requestLimiter.ts), against the simulator: a limiter given to
 * the client is asked for a turn before every HTTP attempt (retries included) and told of every 429 with its
 * normalised Retry-After; given as a function, it is built with the client's upstream (base URL with `/v1`)
 * and key. Without one, the process-local default paces at `maxRequestsPerSecond` (test/retab/pacer.test.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRetabClient, type LimiterScope, type RequestLimiter } from '../../src/retab/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 3, jobs: 30, days: 1 });
});
afterAll(() => sim.close());

function recording() {
  const calls = { acquire: 0, pauses: [] as number[] };
  const limiter: RequestLimiter = {
    async acquire() {
      calls.acquire++;
    },
    pause(ms) {
      calls.pauses.push(ms);
    },
  };
  return { calls, limiter };
}

it('asks the limiter before every attempt and tells it of each 429 with its Retry-After', async () => {
  const { calls, limiter } = recording();
  let scope: LimiterScope | undefined;
  const client = createRetabClient({
    apiKey: sim.apiKey,
    baseUrl: new URL(sim.url).origin, // a bare origin: the limiter is given the URL with its /v1
    maxRetries: 3,
    minRetryDelayMs: 10,
    maxRetryDelayMs: 20,
    maxRequestsPerSecond: 1, // the limiter's business now: not applied on top
    requestLimiter: (s) => {
      scope = s;
      return limiter;
    },
  });
  expect(scope).toEqual({ baseUrl: `${new URL(sim.url).origin}/v1`, apiKey: sim.apiKey });

  sim.stats.reset();
  sim.faults.set({ retryAfterSeconds: 1, sequence: ['http429', 'ok', 'ok'] });
  const started = performance.now();
  await client.listJobs({ limit: 5 });
  await client.listJobs({ limit: 5 });
  expect(calls.pauses).toEqual([1000]);
  expect(calls.acquire).toBe(sim.stats.total); // 429, its retry, the second list
  expect(calls.acquire).toBe(3);
  // The client still waits out the Retry-After before its own retry; no 1/s pacing on top of the limiter.
  expect(performance.now() - started).toBeLessThan(1000 + 900);
});

it('a limiter given as an object is used as is', async () => {
  const { calls, limiter } = recording();
  const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url, requestLimiter: limiter });
  sim.faults.set({});
  await client.retrieveJob(sim.store.all()[0]?.id ?? 'job_x');
  expect(calls.acquire).toBe(1);
});
