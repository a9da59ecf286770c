/**
 * Retry-After in every form, through the real client against the simulator: each odd value is normalised
 * once to an integer wait within [floor, cap], the client pauses that long and then succeeds. A 429 means
 * the key is rate-limited: every request of the process waits it out, not only the one that got it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const FLOOR = 60; // minRetryDelayMs
const CAP = 400; // maxRetryAfterMs
/** Timers may fire a little early; arrival times are the simulator's wall clock. */
const EARLY = 5;

const clientOf = (s: Simulator) =>
  createRetabClient({
    apiKey: s.apiKey,
    baseUrl: s.url,
    maxRetries: 3,
    minRetryDelayMs: FLOOR,
    maxRetryDelayMs: 100,
    maxRetryAfterMs: CAP,
  });

const FORMS: [string, Record<string, string>, number][] = [
  ['Retry-After: 0', { 'retry-after': '0' }, FLOOR],
  ['a date already passed', { 'retry-after': 'Sun, 01 Nov 2026 11:00:00 GMT' }, FLOOR],
  ['a fractional number', { 'retry-after': '0.2' }, 200],
  ['a huge value', { 'retry-after': '999999999' }, CAP],
  ['garbage', { 'retry-after': 'soon' }, FLOOR],
  ['retry-after-ms', { 'retry-after-ms': '150' }, 150],
  ['a fractional retry-after-ms', { 'retry-after-ms': '0.5' }, FLOOR],
];

describe('Retry-After forms through the client', () => {
  for (const [name, headers, wait] of FORMS) {
    it(`${name}: waits ${wait} ms, then succeeds`, async () => {
      sim = await startSimulator({ seed: 2, jobs: 30, days: 1 });
      sim.faults.set({ retryAfterHeaders: headers, sequence: ['http429'] });
      const page = await clientOf(sim).listJobs({ limit: 5 });
      expect(page.data).toHaveLength(5);
      const [first, second] = sim.stats.requests;
      expect(first?.status).toBe(429);
      expect(second?.status).toBe(200);
      expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(wait - EARLY);
    });
  }
});

describe('a 429 pauses every request of the process', () => {
  it('requests of other tasks (and of another client with the same key) wait out the Retry-After', async () => {
    sim = await startSimulator({ seed: 2, jobs: 30, days: 1 });
    sim.faults.set({ retryAfterHeaders: { 'retry-after': '0.3' }, sequence: ['http429'] });
    const a = clientOf(sim);
    const b = clientOf(sim); // built from the same settings: the same key on the same upstream
    const rateLimited = a.listJobs({ limit: 1 });
    while (sim.stats.requests.length === 0 || sim.stats.requests[0]?.status === 0) {
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 30)); // the 429 has reached the client
    const t429 = sim.stats.requests[0]?.at ?? 0;
    await Promise.all([
      rateLimited,
      a.listJobs({ limit: 2 }),
      b.listJobs({ limit: 3 }),
      a.retrieveJob('job_x').catch(() => null),
    ]);
    const later = sim.stats.requests.slice(1);
    expect(later).toHaveLength(4);
    for (const r of later) expect(r.at - t429).toBeGreaterThanOrEqual(300 - EARLY);
  });
});
