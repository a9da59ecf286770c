import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';

// `latencyMs`: every `/v1` answer waits that long (a WAN-like upstream for bench/scaleOut.ts); the control
// routes under `/_sim/` do not.
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, jobs: 50, now: Date.parse('2026-11-01T12:00:00Z'), latencyMs: 150 });
});
afterAll(() => sim.close());

async function timed(url: string, headers: Record<string, string> = {}): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(url, { headers });
  await r.arrayBuffer();
  return performance.now() - t0;
}

it('delays every /v1 answer, errors included, and not the control routes', async () => {
  const key = { 'Api-Key': sim.apiKey };
  const base = sim.url.replace(/\/v1$/, '');
  // Pairs in parallel: each still waits its own latency (the server is not serialised by the delay).
  const [list, one, missing, pair] = await Promise.all([
    timed(`${sim.url}/jobs?limit=5`, key),
    timed(`${sim.url}/jobs/${sim.store.all()[0]?.id}`, key),
    timed(`${sim.url}/jobs/job_unknown`, key),
    Promise.all([timed(`${sim.url}/jobs`, key), timed(`${sim.url}/jobs`, {})]),
  ]);
  for (const ms of [list, one, missing, ...pair]) expect(ms).toBeGreaterThanOrEqual(145);
  expect(Math.max(...pair)).toBeLessThan(1000);
  expect(await timed(`${base}/_sim/clock`)).toBeLessThan(140);
});
