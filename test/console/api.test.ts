/**
 * The console's server side: aggregates against SQL over the same mirror, freshness, headers, the actions'
 * guards — on each store (test/stores.ts). The Redis and no-token cases are about settings, not the store:
 * they run on an SQLite file.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { createSyncQueue } from '../../src/queue/syncQueue.ts';
import { createServer } from '../../src/server/createServer.ts';
import { sqlCount, sqlRows } from '../storeSql.ts';
import { forEachStore } from '../stores.ts';
import { type ConsoleWorld, consoleWorld, TOKEN } from './helpers.ts';

const DAY = 86_400;
const auth = { authorization: `Bearer ${TOKEN}` };

const getCursor = async (m: MirrorStore, sink: string) => (await m.cursors.get(sink))?.seq;
const deadLetterIds = async (m: MirrorStore) => (await m.deadLetters.list()).map((d) => d.id);

forEachStore((store) => {
  describe('console API (token set)', () => {
    let w: ConsoleWorld<MirrorStore>;
    beforeAll(async () => {
      w = await consoleWorld({ store });
    });
    afterAll(async () => {
      await w?.close();
    });

    const get = async (url: string, headers: Record<string, string> = auth) =>
      w.app.inject({ method: 'GET', url, headers });

    async function sqlCounts(from: number, to: number, where = '', args: unknown[] = []) {
      const rows = await sqlRows<{ status: string; n: number | string }>(
        w.mirror,
        `SELECT status, count(*) AS n FROM jobs j WHERE created_at >= ? AND created_at < ? ${where} GROUP BY status`,
        [from, to, ...args],
      );
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    }

    it('overview counts, series and failure rates equal SQL over the same jobs, with endpoint and metadata filters', async () => {
      const today = new Date(w.sim.clock.now()).toISOString().slice(0, 10);
      const from = Date.parse(today) / 1000 - 6 * DAY;
      const to = Date.parse(today) / 1000 + DAY;
      const fromDay = new Date(from * 1000).toISOString().slice(0, 10);
      const res = await get(`/console/api/overview?from=${fromDay}&to=${today}`);
      expect(res.statusCode).toBe(200);
      const o = res.json();
      const truth = await sqlCounts(from, to);
      expect(o.byStatus).toEqual(truth);
      const total = Object.values(truth).reduce((a, b) => a + (b as number), 0);
      expect(o.total).toBe(total);
      const seriesSum = Object.values(o.series as Record<string, number[]>)
        .flat()
        .reduce((a, b) => a + b, 0);
      expect(seriesSum).toBe(total);
      for (const r of o.failureByEndpoint as { endpoint: string; completed: number; failed: number }[]) {
        const t = await sqlCounts(from, to, 'AND endpoint = ?', [r.endpoint]);
        expect([r.endpoint, r.completed, r.failed]).toEqual([r.endpoint, t.completed ?? 0, t.failed ?? 0]);
      }
      const codes = await sqlRows<{ code: string; count: number | string }>(
        w.mirror,
        `SELECT coalesce(error_code, '(none)') AS code, count(*) AS count FROM jobs
       WHERE status = 'failed' AND created_at >= ? AND created_at < ? GROUP BY 1 ORDER BY 2 DESC, 1`,
        [from, to],
      );
      expect(o.failureByErrorCode).toEqual(codes.map((c) => ({ code: c.code, count: Number(c.count) })));

      const endpoint = '/v1/documents/extract';
      const byEndpoint = (
        await get(
          `/console/api/overview?from=${fromDay}&to=${today}&endpoint=${encodeURIComponent(endpoint)}`,
        )
      ).json();
      expect(byEndpoint.byStatus).toEqual(await sqlCounts(from, to, 'AND endpoint = ?', [endpoint]));

      const [pair] = await sqlRows<{ key: string; value: string }>(
        w.mirror,
        "SELECT key, value FROM job_metadata WHERE key = 'customer' LIMIT 1",
      );
      if (!pair) throw new Error('the simulator wrote no customer metadata');
      const meta = encodeURIComponent(`${pair.key}=${pair.value}`);
      const byMeta = (await get(`/console/api/overview?from=${fromDay}&to=${today}&meta=${meta}`)).json();
      expect(byMeta.byStatus).toEqual(
        await sqlCounts(
          from,
          to,
          'AND seq IN (SELECT job_seq FROM job_metadata WHERE key = ? AND value = ?)',
          [pair.key, pair.value],
        ),
      );
      expect(byMeta.total).toBeGreaterThan(0);
      expect(byMeta.total).toBeLessThan(total);
    });

    it('overview follows the mirror: jobs synced after the first answer and status changes are counted next time', async () => {
      const before = (await get('/console/api/overview')).json();
      const failed = w.sim.store.all().find((j) => j.status === 'failed');
      if (!failed) throw new Error('the simulator has no failed job');
      w.sim.store.retry(failed.id);
      w.sim.clock.advance(60_000);
      await w.sync();
      const after = (await get('/console/api/overview')).json();
      const now = Math.floor(w.sim.clock.now() / 1000 / DAY) * DAY + DAY;
      expect(after.byStatus).toEqual(await sqlCounts(now - 14 * DAY, now));
      expect(after.total).toBeGreaterThan(before.total);
    });

    it('rejects a bad range with a one-line reason', async () => {
      const res = await get('/console/api/overview?from=yesterday');
      expect(res.statusCode).toBe(422);
      expect(res.json().detail.message).toMatch(/YYYY-MM-DD/);
    });

    it('every response carries a strict Content-Security-Policy', async () => {
      for (const url of ['/', '/v1/jobs?limit=1', '/console/api/alerts', '/healthz']) {
        const res = await get(url);
        const csp = String(res.headers['content-security-policy']);
        expect(csp, url).toContain("script-src 'self'");
        expect(csp, url).toContain("default-src 'none'");
        expect(csp, url).not.toContain('unsafe-inline');
        expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      }
    });

    it('the page loads without the token; the data behind it needs the token', async () => {
      const page = await get('/', {});
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)?.[1];
      expect(script).toBeDefined();
      expect((await get(script as string, {})).statusCode).toBe(200);
      expect((await get('/console/api/session', {})).json()).toEqual({ tokenRequired: true, actions: true });
      expect((await get('/console/api/overview', {})).statusCode).toBe(401);
      expect((await get('/console/api/alerts', {})).statusCode).toBe(401);
    });

    it('the page is revalidated on every load (it names hashed assets an upgrade replaces); assets are cached', async () => {
      for (const url of ['/', '/index.html']) {
        const page = await get(url, {});
        expect(page.headers['cache-control'], url).toBe('no-cache');
        const again = await get(url, { 'if-none-match': String(page.headers.etag) });
        expect(again.statusCode, url).toBe(304);
      }
      const script = /src="(\/assets\/[^"]+\.js)"/.exec((await get('/', {})).body)?.[1] as string;
      expect((await get(script, {})).headers['cache-control']).toMatch(/max-age=\d+/);
    });

    it('a job timeline lists its events oldest first, with the stored payload sizes', async () => {
      const [busiest] = await sqlRows<{ job_id: string }>(
        w.mirror,
        "SELECT job_id FROM job_events WHERE type = 'job.status_changed' GROUP BY job_id ORDER BY count(*) DESC LIMIT 1",
      );
      const id = busiest?.job_id as string;
      const t = (await get(`/console/api/jobs/${id}/timeline`)).json();
      const seqs = t.events.map((e: { seq: number }) => e.seq);
      expect(seqs.length).toBeGreaterThan(1);
      expect(seqs).toEqual([...seqs].sort((a: number, b: number) => a - b));
      expect(t.events[0].type).toBe('job.discovered');
      expect(t.requestBytes).toBeGreaterThan(0);
      expect((await get('/console/api/jobs/job_nope/timeline')).statusCode).toBe(404);
    });

    it('export sends every job of the current filter, as CSV or JSON lines', async () => {
      const failed = await sqlCount(w.mirror, "SELECT count(*) AS n FROM jobs WHERE status = 'failed'");
      const csv = await get('/console/api/export?format=csv&status=failed');
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-disposition']).toContain('jobs.csv');
      const rows = csv.body.trim().split('\r\n');
      expect(rows[0]).toMatch(/^id,status,/);
      expect(rows.length - 1).toBe(failed);
      const jsonl = await get('/console/api/export?format=jsonl&status=failed');
      const jobs = jsonl.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(jobs).toHaveLength(failed);
      expect(jobs.every((j: { status: string }) => j.status === 'failed')).toBe(true);
      expect((await get('/console/api/export?format=xml')).statusCode).toBe(422);
    });

    it('actions refuse requests without the token, not in JSON, or from another origin', async () => {
      const url = `/console/api/dead-letters/${w.deadLetterId}/retry`;
      const json = { 'content-type': 'application/json' };
      const post = (headers: Record<string, string>) =>
        w.app.inject({ method: 'POST', url, headers, payload: '{}' });
      expect((await post(json)).statusCode).toBe(401);
      expect((await post({ ...auth, 'content-type': 'text/plain' })).statusCode).toBe(403);
      expect((await post({ ...auth, ...json, origin: 'http://evil.test' })).statusCode).toBe(403);
      expect((await post({ ...auth, ...json, 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403);
      expect(w.received).toHaveLength(0);
      expect(await deadLetterIds(w.mirror)).toContain(w.deadLetterId);
    });

    it('retry resends a dead letter to its webhook and resolves it; replay rewinds a sink', async () => {
      const res = await w.app.inject({
        method: 'POST',
        url: `/console/api/dead-letters/${w.deadLetterId}/retry`,
        headers: {
          ...auth,
          'content-type': 'application/json',
          origin: 'http://localhost:8765',
          host: 'localhost:8765',
        },
        payload: '{}',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: w.deadLetterId, ok: true });
      expect(w.received.map((r) => JSON.parse(r.body).eventId)).toEqual([w.deadLetterEventId]);
      expect(await deadLetterIds(w.mirror)).not.toContain(w.deadLetterId);

      const replay = await w.app.inject({
        method: 'POST',
        url: '/console/api/sinks/ops/replay',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: { fromSeq: 5 },
      });
      expect(replay.json()).toEqual({ sink: 'ops', cursor: 4 });
      expect(await getCursor(w.mirror, 'ops')).toBe(4);
      const unknown = await w.app.inject({
        method: 'POST',
        url: '/console/api/sinks/nobody/replay',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: { fromSeq: 5 },
      });
      expect(unknown.statusCode).toBe(404);
    });

    it('replay refuses a seq past the outbox end (the sink would skip every new event), 1e30 included', async () => {
      const end = await w.mirror.outbox.maxSeq();
      const before = await getCursor(w.mirror, 'ops');
      for (const fromSeq of [end + 2, 99_999_999, 1e30]) {
        const res = await w.app.inject({
          method: 'POST',
          url: '/console/api/sinks/ops/replay',
          headers: { ...auth, 'content-type': 'application/json' },
          payload: { fromSeq },
        });
        expect(res.statusCode, String(fromSeq)).toBe(422);
        expect(res.json().detail.message).toContain(`#${end}`);
      }
      expect(await getCursor(w.mirror, 'ops')).toBe(before);
      const toEnd = await w.app.inject({
        method: 'POST',
        url: '/console/api/sinks/ops/replay',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: { fromSeq: end + 1 },
      });
      expect(toEnd.json()).toEqual({ sink: 'ops', cursor: end });
    });

    it('the live event stream carries the same Content-Security-Policy as every other response', async () => {
      const ctl = new AbortController();
      try {
        const res = await fetch(`${w.base}/v1/mirror/events`, { headers: auth, signal: ctl.signal });
        expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
        expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      } finally {
        ctl.abort();
      }
    });

    it('the sync view lists partitions with their runs and the upstream answers by status', async () => {
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      const range = `from=${day(Date.now() - DAY * 1000)}&to=${day(w.sim.clock.now() + DAY * 1000)}`;
      const s = (await get(`/console/api/sync?${range}`)).json();
      expect(s.partitions.map((p: { partition: string }) => p.partition)).toContain('head');
      const head = s.partitions.find((p: { partition: string }) => p.partition === 'head');
      expect(head.runs[0]).toMatchObject({ task: 'head', outcome: 'success' });
      expect(s.lag.map((l: { task: string }) => l.task)).toEqual(['active', 'head', 'hydrate']);
      const answers = Object.values(s.upstream.byStatus as Record<string, number[]>)
        .flat()
        .reduce((a, b) => a + b, 0);
      const truth = await sqlCount(w.mirror, 'SELECT sum(requests) AS n FROM sync_runs');
      expect(answers).toBe(truth);
    });
  });
});

describe('console API with Redis', () => {
  it('the sync page lists the job schedulers and their next run from Redis', async () => {
    const w = await consoleWorld({ jobs: 20 });
    const prefix = `console-test-${randomUUID()}`;
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const queue = createSyncQueue(redis, prefix);
    const config = { ...w.config, redisUrl: inject('redisUrl'), queuePrefix: prefix, dbPath: w.path };
    const app = createServer({ mirror: w.reader, config, console: { config } });
    try {
      await queue.upsertJobScheduler(
        'head',
        { every: 30_000 },
        { name: 'head', data: { task: 'head' } as never },
      );
      const res = await app.inject({ method: 'GET', url: '/console/api/schedulers', headers: auth });
      const body = res.json();
      expect(body.redis.reachable).toBe(true);
      expect(body.schedulers).toEqual([{ id: 'head', everyMs: 30_000, nextRunAt: expect.any(Number) }]);
    } finally {
      await app.close();
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
      await w.close();
    }
  });
});

describe('console API (no token)', () => {
  it('is read-only: actions answer 403 and say which setting enables them', async () => {
    const w = await consoleWorld({ token: null, jobs: 50 });
    try {
      expect((await w.app.inject({ method: 'GET', url: '/console/api/session' })).json()).toEqual({
        tokenRequired: false,
        actions: false,
      });
      const res = await w.app.inject({
        method: 'POST',
        url: `/console/api/dead-letters/${w.deadLetterId}/retry`,
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().detail.message).toContain('MIRROR_API_TOKEN');
      expect(w.received).toHaveLength(0);
    } finally {
      await w.close();
    }
  });
});
