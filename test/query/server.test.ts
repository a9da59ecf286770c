/**
 * The local server's own routes: auth, bind address, health, metrics, stats and the SSE event stream, on
 * both stores (test/stores.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { startServer } from '../../src/server/createServer.ts';
import { forEachStore } from '../stores.ts';
import { getJson, LOCAL_CONFIG, listen, loadStore as load, makeJob } from './helpers.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface TempMirror {
  /** The writer (as the sync holds it). */
  mirror: MirrorStore;
  /** A read-only connection (as the server and the CLI hold it). */
  reader: MirrorStore;
}

forEachStore((store) => {
  async function setup(): Promise<TempMirror> {
    const location = await store.location();
    const mirror = await store.reopen(location);
    const reader = await store.reopen(location, { readonly: true });
    return { mirror, reader };
  }

  async function serve(tmp: TempMirror, config: Parameters<typeof listen>[0]['config'] = LOCAL_CONFIG) {
    const server = await listen({ mirror: tmp.reader, config, events: { pollMs: 20 } });
    cleanups.push(() => server.app.close());
    return server;
  }

  describe('auth', () => {
    it('with a token: 401 without it or with a wrong one, 200 with it in Api-Key or Authorization: Bearer', async () => {
      const tmp = await setup();
      await load(tmp.mirror, [makeJob()]);
      const token = 'tok-local-5f2c9a1e';
      const { base } = await serve(tmp, { ...LOCAL_CONFIG, serverToken: token });
      const none = await getJson(`${base}/v1/jobs`);
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ detail: { code: 'unauthorized', message: expect.any(String) } });
      expect((await getJson(`${base}/v1/jobs`, { 'Api-Key': 'tok-local-5f2c9a1' })).status).toBe(401);
      expect((await getJson(`${base}/v1/jobs`, { Authorization: `Bearer ${token}x` })).status).toBe(401);
      expect((await getJson(`${base}/v1/mirror/stats`)).status).toBe(401);
      expect((await getJson(`${base}/v1/jobs`, { 'Api-Key': token })).status).toBe(200);
      expect((await getJson(`${base}/v1/jobs`, { Authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await getJson(`${base}/healthz`)).status).toBe(200); // probes need no token
    });

    it('without a token, any Api-Key is accepted and ignored', async () => {
      const tmp = await setup();
      const { base } = await serve(tmp);
      expect((await getJson(`${base}/v1/jobs`, { 'Api-Key': 'sk-whatever' })).status).toBe(200);
    });

    it('binds 127.0.0.1 by default', async () => {
      const tmp = await setup();
      const config = loadConfig({ env: {}, dotenvFile: false, overrides: { serverPort: 0 } });
      const app = await startServer({ mirror: tmp.reader, config });
      cleanups.push(() => app.close());
      const addr = app.server.address();
      expect(addr && typeof addr === 'object' ? addr.address : addr).toBe('127.0.0.1');
    });
  });

  describe('health, metrics, stats', () => {
    it('healthz reports the age of the last successful run, and 503 when the database is unreadable', async () => {
      const tmp = await setup();
      const { base } = await serve(tmp);
      expect((await getJson(`${base}/healthz`)).body).toEqual({ ok: true, lastSuccessAgeSeconds: null });
      const totals = { requests: 7, pages: 3, jobs: 250, inserted: 250, updated: 0, events: 250, missing: 0 };
      const id = await tmp.mirror.runs.start({
        task: 'head',
        partition: 'head',
        startedAt: Date.now() - 65_000,
      });
      await tmp.mirror.runs.finish(id, {
        ...totals,
        quarantined: 2,
        outcome: 'success',
        finishedAt: Date.now() - 60_000,
      });
      const h = await getJson(`${base}/healthz`);
      expect(h.status).toBe(200);
      expect((h.body as { lastSuccessAgeSeconds: number }).lastSuccessAgeSeconds).toBeGreaterThanOrEqual(59);
      expect((h.body as { lastSuccessAgeSeconds: number }).lastSuccessAgeSeconds).toBeLessThan(120);
      await tmp.reader.close();
      const down = await getJson(`${base}/healthz`);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ ok: false });
    });

    it('metrics are read from the database at scrape time', async () => {
      const tmp = await setup();
      const { base } = await serve(tmp);
      await load(tmp.mirror, [makeJob(), makeJob(), makeJob({ status: 'failed' })]);
      const id = await tmp.mirror.runs.start({
        task: 'head',
        partition: 'head',
        startedAt: Date.now() - 2000,
      });
      const totals = { requests: 4, pages: 1, jobs: 3, inserted: 3, updated: 0, events: 3, missing: 0 };
      await tmp.mirror.runs.finish(id, {
        ...totals,
        quarantined: 1,
        outcome: 'success',
        finishedAt: Date.now(),
      });
      const res = await fetch(`${base}/metrics`);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toContain('retab_mirror_jobs{status="completed"} 2');
      expect(text).toContain('retab_mirror_jobs{status="failed"} 1');
      expect(text).toContain('retab_mirror_upstream_requests_total 4');
      expect(text).toContain('retab_mirror_quarantined_total 1');
      expect(text).toContain('retab_mirror_events_total{type="job.discovered"} 3');
      expect(text).toContain('retab_mirror_sync_runs_total{task="head",outcome="success"} 1');
      expect(text).toMatch(/retab_mirror_sync_lag_seconds \d/);
      expect(text).toMatch(/retab_mirror_last_run_duration_seconds\{task="head"\} \d/);
    });

    it('GET /v1/mirror/stats is statsJobs; bad params are 422', async () => {
      const tmp = await setup();
      await load(tmp.mirror, [makeJob(), makeJob({ status: 'failed', endpoint: '/v1/documents/parse' })]);
      const { base } = await serve(tmp);
      const r = await getJson(`${base}/v1/mirror/stats?by=endpoint&status=failed`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual(
        await tmp.reader.jobs.stats({ groupBy: 'endpoint', filters: { status: 'failed' } }),
      );
      expect((r.body as { totals: { count: number } }).totals.count).toBe(1);
      const bad = await getJson(`${base}/v1/mirror/stats?by=colour&from=2026-02-30`);
      expect(bad.status).toBe(422);
      expect((bad.body as { detail: { loc: string[] }[] }).detail.map((d) => d.loc[1])).toEqual([
        'by',
        'from_date',
      ]);
    });
  });

  interface SseEvent {
    id: number;
    event: string;
    data: string;
  }

  /** Reads SSE frames from a fetch body until `n` events arrived (comments and `retry:` skipped). */
  async function readEvents(res: Response, n: number): Promise<SseEvent[]> {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const out: SseEvent[] = [];
    let buf = '';
    const deadline = Date.now() + 10_000;
    while (out.length < n && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        end = buf.indexOf('\n\n');
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => !l.startsWith(':') && l.includes(': '))
            .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
        );
        if (fields.id === undefined) continue;
        out.push({ id: Number(fields.id), event: String(fields.event), data: String(fields.data) });
      }
    }
    await reader.cancel();
    return out;
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  describe('SSE events', () => {
    it('delivers outbox events in seq order during writes; Last-Event-ID resumes with no gap or duplicate', async () => {
      const tmp = await setup();
      await load(tmp.mirror, [makeJob(), makeJob()]); // history before the client connects: not replayed
      const { base } = await serve(tmp);
      const startSeq = await tmp.mirror.outbox.maxSeq();

      const first = await fetch(`${base}/v1/mirror/events`);
      expect(first.headers.get('content-type')).toContain('text/event-stream');
      const writes = (async () => {
        for (let page = 0; page < 4; page++) {
          await tmp.mirror.jobs.applyPage([makeJob(), makeJob(), makeJob()], { observedAt: Date.now() });
          await sleep(30);
        }
      })();
      // Disconnect mid-way, after 5 of the 12 events.
      const part1 = await readEvents(first, 5);
      await writes;
      const rows = await tmp.mirror.outbox.after(startSeq, 100);
      expect(rows).toHaveLength(12);
      const last = part1[part1.length - 1]?.id as number;
      const second = await fetch(`${base}/v1/mirror/events`, { headers: { 'Last-Event-ID': String(last) } });
      const part2 = await readEvents(second, rows.length - part1.length);
      const got = [...part1, ...part2];
      expect(got.map((e) => e.id)).toEqual(rows.map((r) => r.seq));
      expect(got.map((e) => e.event)).toEqual(rows.map((r) => r.type));
      // The one wire shape (MirrorEvent), as a webhook, the queue and the emitter carry it.
      expect(got.map((e) => JSON.parse(e.data))).toEqual(rows);
    });

    it('ends open streams when the server stops', async () => {
      const tmp = await setup();
      const server = await listen({ mirror: tmp.reader, config: LOCAL_CONFIG, events: { pollMs: 20 } });
      const res = await fetch(`${server.base}/v1/mirror/events?since=0`);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read(); // the opening comment
      await server.app.close();
      let done = false;
      while (!done) done = (await reader.read()).done;
      expect(done).toBe(true);
    });
  });
});
