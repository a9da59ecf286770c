import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import { createPacer } from '../../src/retab/pacer.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 3, jobs: 200, days: 2 });
});
afterAll(async () => {
  await sim?.close();
});

describe('request pacing (RATE_LIMIT_RPS)', () => {
  it('spaces concurrent requests of one client at most N per second', async () => {
    const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url, maxRequestsPerSecond: 20 });
    sim.stats.reset();
    const started = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => client.listJobs({ limit: 5 })));
    const elapsed = performance.now() - started;
    expect(sim.stats.requests).toHaveLength(6);
    // 6 requests at 20/s take slots 0, 50, …, 250 ms: the batch cannot finish sooner.
    expect(elapsed).toBeGreaterThanOrEqual(245);
  });

  it('an abort while waiting for a slot rejects at once', async () => {
    const pacer = createPacer(1);
    await pacer.wait();
    const ctrl = new AbortController();
    const waiting = pacer.wait(ctrl.signal);
    ctrl.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });

  it('no limit means no wait', async () => {
    const pacer = createPacer(undefined);
    for (let i = 0; i < 100; i++) await pacer.wait();
  });
});
