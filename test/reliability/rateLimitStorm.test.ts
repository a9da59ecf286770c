/**
 * A 429 pauses the whole process. Through a storm of 10% 429 (Retry-After: 1) and 15% 503, concurrent tasks
 * of one process (three windows walked in parallel, a hydrate fetching four payloads at a time) send nothing
 * while a Retry-After runs: the simulator's request log shows no request arriving within the Retry-After of
 * a 429, beyond the requests already in flight when it was answered. The mirror then converges.
 */
import { afterEach, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import { utcDay } from '../../src/retab/jobFields.ts';
import type { RequestRecord } from '../../src/simulator/index.ts';
import { runHead, runHydrate, runWindow } from '../../src/sync/index.ts';
import { HEAD, type World, world } from '../sync/helpers.ts';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const RETRY_AFTER_MS = 1000;
/** A request already on the wire when the 429 left the simulator arrives a little after it (loaded machine). */
const IN_FLIGHT_MS = 250;
/** Timers may fire a little early. */
const EARLY_MS = 5;

/** Requests that arrived while a 429's Retry-After ran, after those in flight when it was answered. */
function sentDuringPause(requests: RequestRecord[]): string[] {
  const bad: string[] = [];
  for (const r429 of requests.filter((r) => r.status === 429)) {
    for (const r of requests) {
      const dt = r.at - r429.at;
      if (dt > IN_FLIGHT_MS && dt < RETRY_AFTER_MS - EARLY_MS) bad.push(`${r.path} +${dt} ms after a 429`);
    }
  }
  return bad;
}

it('a storm of 10% 429 + 15% 503: no request of the process within Retry-After of a 429, then convergence', async () => {
  w = await world({ jobs: 90, days: 3, rates: { arrivalsPerMinute: 0 } });
  const { sim } = w;
  const client = createRetabClient({
    apiKey: sim.apiKey,
    baseUrl: sim.url,
    maxRetries: 12,
    minRetryDelayMs: 5,
    maxRetryDelayMs: 20,
  });
  const deps = { ...w.deps, client };
  await runHead(deps, { ...HEAD, payloadMode: 'none', backfillDays: 4 }); // lightweight: hydrate has work

  sim.faults.set({ probabilities: { http429: 0.1, http503: 0.15 }, retryAfterSeconds: 1 });
  sim.stats.reset();
  const nowS = Math.floor(sim.clock.now() / 1000);
  const days = [1, 2, 3].map((d) => utcDay(nowS - d * 86_400));
  const runs = await Promise.all([
    ...days.map((day) => runWindow(deps, { day, pageSize: 20, payloadMode: 'none', restart: true })),
    runHydrate(deps, { payloadMode: 'request', concurrency: 4, resolveByDayThreshold: 1000, limit: 30 }),
  ]);
  expect(runs.map((r) => r.outcome)).toEqual(['success', 'success', 'success', 'success']);

  const requests = sim.stats.requests;
  expect(requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
  expect(sentDuringPause(requests)).toEqual([]);
  // Converged: every job is mirrored, and the hydrate got its 30 requests.
  const hydrated = w.mirror.sqlite.prepare('SELECT count(*) FROM jobs WHERE has_request = 1').pluck().get();
  expect(hydrated).toBe(30);
  expect(w.mirror.sqlite.prepare('SELECT count(*) FROM jobs').pluck().get()).toBe(sim.store.all().length);
}, 120_000);
