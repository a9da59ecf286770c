import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JobSchema } from '../../src/retab/schemas.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { call, list } from './http.ts';

// Each fault as a plain fetch client observes it, and the request log that cost/reliability tests read.
let sim: Simulator;
let base: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: 9, jobs: 500, now: Date.parse('2026-11-01T12:00:00Z') });
  base = sim.url.replace(/\/v1$/, '');
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.faults.clear();
  sim.stats.reset();
});

const get = (query = '') => fetch(`${sim.url}/jobs${query}`, { headers: { 'Api-Key': sim.apiKey } });

describe('fault kinds', () => {
  it('http429 carries Retry-After in seconds and the rate_limited body', async () => {
    sim.faults.set({ retryAfterSeconds: 3 });
    sim.faults.enqueue('http429');
    const r = await get();
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('3');
    expect(r.headers.get('x-request-id')).toMatch(/^req_/);
    expect(await r.json()).toMatchObject({ detail: { code: 'rate_limited' } });
    expect((await get()).status).toBe(200);
  });

  it('http500, http502 (HTML), http503', async () => {
    sim.faults.enqueue('http500', 'http502', 'http503');
    const r500 = await get();
    expect([r500.status, ((await r500.json()) as { detail: { code: string } }).detail.code]).toEqual([
      500,
      'internal_error',
    ]);
    const r502 = await get();
    expect([r502.status, r502.headers.get('content-type')]).toEqual([502, 'text/html']);
    expect(await r502.text()).toContain('Bad Gateway');
    expect((await get()).status).toBe(503);
  });

  it('reset: the connection is destroyed and fetch rejects', async () => {
    sim.faults.enqueue('reset');
    await expect(get()).rejects.toThrow();
    expect(sim.stats.requests[0]).toMatchObject({ status: 0, fault: 'reset' });
  });

  it('slow: the answer comes after slowMs', async () => {
    sim.faults.set({ slowMs: 300 });
    sim.faults.enqueue('slow');
    const t0 = Date.now();
    const r = await get('?limit=3');
    expect(r.status).toBe(200);
    expect(((await r.json()) as { data: unknown[] }).data).toHaveLength(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('truncated and invalid_json: status 200 but the body does not parse', async () => {
    sim.faults.enqueue('truncated', 'invalid_json');
    const t = await get();
    expect(t.status).toBe(200);
    const text = await t.text();
    expect(text.startsWith('{"object":"list"')).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
    const i = await get();
    expect(i.status).toBe(200);
    await expect(i.json()).rejects.toThrow();
  });

  it('malformed_item: exactly one item fails JobSchema, in turn missing field, a status that is not a string, wrong type', async () => {
    sim.faults.enqueue('malformed_item', 'malformed_item', 'malformed_item');
    const problems: string[] = [];
    for (let k = 0; k < 3; k++) {
      const page = await list(sim, { limit: 10 });
      const bad = page.data.filter((j) => !JobSchema.safeParse(j).success);
      expect(bad).toHaveLength(1);
      const item = bad[0] as Record<string, unknown>;
      if (!('status' in item)) problems.push('missing');
      else if (typeof item.status !== 'string') problems.push('status');
      else if (typeof item.created_at === 'string') problems.push('type');
      expect(page.data).toHaveLength(10);
    }
    expect(problems).toEqual(['missing', 'status', 'type']);
    expect((await list(sim, { limit: 10 })).data.every((j) => JobSchema.safeParse(j).success)).toBe(true);
  });

  it('malformed_item on a retrieve corrupts the job itself', async () => {
    const id = sim.store.all()[0]?.id as string;
    sim.faults.enqueue('malformed_item');
    const r = await call(sim, 'GET', `/jobs/${id}`);
    expect(r.status).toBe(200);
    expect(JobSchema.safeParse(r.body).success).toBe(false);
  });

  it('cursor_reject: a valid cursor answered with 400 invalid_cursor', async () => {
    const first = await list(sim, { limit: 5 });
    sim.faults.enqueue('cursor_reject');
    const r = await call<{ detail: { code: string } }>(sim, 'GET', '/jobs', {
      query: { after: first.last_id as string },
    });
    expect(r.status).toBe(400);
    expect(r.body.detail.code).toBe('invalid_cursor');
    expect((await list(sim, { after: first.last_id as string })).data).toHaveLength(20);
  });

  it('faults come before auth; ok in a script means a clean answer; routes restrict where faults apply', async () => {
    sim.faults.enqueue('http503', 'ok', 'http500');
    expect((await call(sim, 'GET', '/jobs', { apiKey: 'wrong' })).status).toBe(503);
    expect((await call(sim, 'GET', '/jobs')).status).toBe(200);
    expect((await call(sim, 'GET', '/jobs')).status).toBe(500);
    sim.faults.set({ routes: ['retrieve'], probabilities: { http500: 1 } });
    expect((await call(sim, 'GET', '/jobs')).status).toBe(200);
    expect((await call(sim, 'GET', `/jobs/${sim.store.all()[0]?.id}`)).status).toBe(500);
  });

  it('probabilities: drawn per request (seeded), cleared by clear()', async () => {
    sim.faults.set({ probabilities: { http500: 0.3, http429: 0.2 }, retryAfterSeconds: 0 });
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push((await get('?limit=1')).status);
    const n500 = statuses.filter((s) => s === 500).length;
    const n429 = statuses.filter((s) => s === 429).length;
    expect(n500).toBeGreaterThan(35);
    expect(n500).toBeLessThan(85);
    expect(n429).toBeGreaterThan(20);
    expect(n429).toBeLessThan(65);
    expect(sim.stats.count((r) => r.fault === 'http500')).toBe(n500);
    sim.faults.clear();
    expect((await get()).status).toBe(200);
    expect(() => sim.faults.set({ probabilities: { http500: 0.8, reset: 0.5 } })).toThrow(/at most 1/);
  });
});

describe('stats', () => {
  it('logs every /v1 request with route, query, status and fault; /_sim/ is not counted', async () => {
    const id = sim.store.all()[3]?.id as string;
    sim.faults.enqueue('ok', 'http500');
    await list(sim, { status: 'queued', limit: 100 });
    await call(sim, 'GET', `/jobs/${id}`);
    await call(sim, 'GET', '/jobs', { query: { document_type: ['pdf', 'png'] } });
    await call(sim, 'POST', '/jobs', { body: { endpoint: '/v1/documents/parse', request: {} } });
    await fetch(`${base}/_sim/stats`);
    expect(sim.stats.total).toBe(4);
    expect(sim.stats.requests.map((r) => [r.method, r.route, r.status, r.fault])).toEqual([
      ['GET', 'list', 200, undefined],
      ['GET', 'retrieve', 500, 'http500'],
      ['GET', 'list', 200, undefined],
      ['POST', 'create', 200, undefined],
    ]);
    expect(sim.stats.requests[0]?.query).toEqual({ status: 'queued', limit: '100' });
    expect(sim.stats.requests[2]?.query).toEqual({ document_type: 'pdf,png' });
    expect(sim.stats.count((r) => r.route === 'list')).toBe(2);
    expect(sim.stats.byKey()).toMatchObject({ 'GET /v1/jobs?limit=100&status=queued': 1 });
    const remote = (await (await fetch(`${base}/_sim/stats`)).json()) as { total: number };
    expect(remote.total).toBe(4);
    sim.stats.reset();
    expect(sim.stats.total).toBe(0);
  });

  it('earlyRetry marks a repeat of a request that came back before its Retry-After ran out', async () => {
    sim.faults.set({ retryAfterSeconds: 1 });
    sim.faults.enqueue('http429');
    expect((await get('?limit=2')).status).toBe(429);
    await get('?limit=2');
    await get('?limit=3');
    await new Promise((r) => setTimeout(r, 1050));
    await get('?limit=2');
    const [, early, other, patient] = sim.stats.requests;
    expect(early).toMatchObject({ earlyRetry: true, duringRetryAfter: true });
    expect(other?.earlyRetry).toBeUndefined();
    expect(other?.duringRetryAfter).toBe(true);
    expect(patient?.earlyRetry).toBeUndefined();
    expect(patient?.duringRetryAfter).toBeUndefined();
  });
});

describe('control routes', () => {
  it('set and clear faults over HTTP, and stream the ground truth as JSON lines', async () => {
    await fetch(`${base}/_sim/faults`, { method: 'POST', body: JSON.stringify({ sequence: ['http502'] }) });
    expect((await get()).status).toBe(502);
    await fetch(`${base}/_sim/faults/enqueue`, {
      method: 'POST',
      body: JSON.stringify({ kinds: ['http500'] }),
    });
    await fetch(`${base}/_sim/faults`, { method: 'DELETE' });
    expect((await get()).status).toBe(200);
    const bad = await fetch(`${base}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ probabilities: { nope: 1 } }),
    });
    expect(bad.status).toBe(400);

    const lines = (await (await fetch(`${base}/_sim/jobs.jsonl`)).text()).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(sim.store.all());
  });
});
