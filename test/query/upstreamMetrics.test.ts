/** `GET /metrics` counts upstream answers from the run log, on each store (test/stores.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { createServer } from '../../src/server/createServer.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { syncOnce } from '../../src/sync/index.ts';
import { forEachStore } from '../stores.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 11, jobs: 300, days: 2, now: Date.parse('2026-11-01T12:00:00Z') });
});
afterAll(async () => {
  await sim?.close();
});

forEachStore((store) => {
  describe('GET /metrics upstream answers', () => {
    it('counts upstream answers by HTTP status, retries and connection failures included', async () => {
      const mirror = await store.open();
      const client = createRetabClient({
        apiKey: sim.apiKey,
        baseUrl: sim.url,
        minRetryDelayMs: 1,
        maxRetryDelayMs: 5,
      });
      sim.faults.enqueue('http503', 'reset', 'http502');
      sim.stats.reset();
      const pass = await syncOnce(
        { client, mirror, logger: silentLogger, now: () => sim.clock.now() },
        {
          pageSize: 100,
          payloadMode: 'request',
          overlapSeconds: 300,
          backfillDays: 3,
          activeStatuses: ['validating', 'queued', 'in_progress'],
        },
      );
      expect(pass.outcome).toBe('success');
      const app = createServer({ mirror, config: { serverHost: '127.0.0.1', serverPort: 0 } });
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      const counts = Object.fromEntries(
        [...res.body.matchAll(/^retab_mirror_upstream_responses_total\{status="([^"]+)"\} (\d+)$/gm)].map(
          (m) => [m[1], Number(m[2])],
        ),
      );
      expect(counts['503']).toBe(1);
      expect(counts['502']).toBe(1);
      expect(counts.network).toBe(1);
      expect(counts['200']).toBe(sim.stats.total - 3); // every request the simulator received, less the 5xx and the reset
      await app.close();
    });
  });
});
