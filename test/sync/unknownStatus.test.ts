/**
 * A status upstream adds after this release (here `paused`) never costs a job: the client keeps the item and
 * warns once per value, the mirror stores it as given and reports the change, it counts as in flight, and
 * ACTIVE_STATUSES can sweep it. The simulator only speaks the documented statuses, so a small scripted
 * upstream on loopback answers here. On each store (test/stores.ts): PostgreSQL stores the value as given too.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { isTerminal, type Job } from '../../src/retab/schemas.ts';
import { runActive } from '../../src/sync/index.ts';
import { makeJob } from '../mirror/factory.ts';
import { captureLogger } from '../retab/logCapture.ts';
import { forEachStore } from '../stores.ts';

let m: MirrorStore;
let server: Server;
let base: string;
let byStatus: Record<string, Job[]>;
const asked: string[] = [];

beforeEach(async () => {
  byStatus = {};
  asked.length = 0;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const status = url.searchParams.get('status') ?? '';
    asked.push(status);
    res.setHeader('content-type', 'application/json');
    // The current envelope only, as upstream sends it since May 2026.
    res.end(JSON.stringify({ data: byStatus[status] ?? [], list_metadata: { before: null, after: null } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const statusOf = async (id: string) => (await m.jobs.get(id))?.status;

forEachStore((store) => {
  beforeEach(async () => {
    m = await store.open();
  });

  describe('a status upstream added since this release', () => {
    it('is kept by the client, warned about once per value, stored as given, and reported', async () => {
      const job = makeJob({ status: 'queued' });
      await m.jobs.applyPage([job], { observedAt: 1 });
      const paused = { ...job, status: 'paused' };
      byStatus.paused = [paused, { ...makeJob(), status: 'paused' }];
      const { logger, records } = captureLogger();
      const client = createRetabClient({ apiKey: 'k', baseUrl: base, logger });
      const page = await client.listJobs({ status: 'paused' });
      await client.listJobs({ status: 'paused' });
      expect(page.data).toHaveLength(2);
      expect(page.rejected).toEqual([]);
      const warnings = records().filter((r) => String(r.msg).includes('"paused"'));
      expect(warnings).toHaveLength(1);

      await m.jobs.applyPage(page.data, { observedAt: 2 });
      expect(await statusOf(job.id)).toBe('paused');
      const steps = (await m.outbox.after(0, 1000))
        .filter((e) => e.jobId === job.id && e.type === 'job.status_changed')
        .map((e) => [e.from, e.to, e.inferred]);
      expect(steps).toEqual([['queued', 'paused', false]]);
      expect(isTerminal('paused')).toBe(false);
      // In flight: a sweep that lists it and no longer sees it resolves it.
      const stale = await m.jobs.staleActive({ statuses: ['paused'], notSeenSince: 3 });
      expect(stale.map((j) => j.id)).toContain(job.id);
    });

    it('is swept by the active task when ACTIVE_STATUSES lists it', async () => {
      const job = { ...makeJob(), status: 'paused' };
      byStatus.paused = [job];
      const client = createRetabClient({ apiKey: 'k', baseUrl: base });
      const deps = { client, mirror: m, logger: captureLogger().logger, now: () => 10 };
      const r = await runActive(deps, { statuses: ['queued', 'paused'], pageSize: 100 });
      expect(r.outcome).toBe('success');
      expect(asked).toEqual(['queued', 'paused']);
      expect(await statusOf(job.id)).toBe('paused');
    });

    it('an endpoint name outside both families is stored and served as given', async () => {
      const job = { ...makeJob(), status: 'paused', endpoint: '/v1/translations' };
      byStatus.paused = [job];
      const client = createRetabClient({ apiKey: 'k', baseUrl: base });
      const page = await client.listJobs({ status: 'paused' });
      expect(page.rejected).toEqual([]);
      await m.jobs.applyPage(page.data, { observedAt: 1 });
      expect((await m.jobs.get(job.id))?.endpoint).toBe('/v1/translations');
    });
  });
});
