import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { call } from './http.ts';

// Every refusal with its status and body shape, as a plain fetch client sees it.
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 3,
    jobs: 200,
    apiKey: 'sk-errors-test',
    now: Date.parse('2026-11-01T12:00:00Z'),
  });
});
afterAll(() => sim.close());

type Detail = { detail: { code: string; message: string; details: Record<string, unknown> } };
type Validation = { detail: { type: string; loc: (string | number)[]; msg: string }[] };

function expect422(r: { status: number; body: unknown }, param: string) {
  expect(r.status).toBe(422);
  const locs = (r.body as Validation).detail.map((d) => d.loc.slice(0, 2).join('.'));
  expect(locs).toContain(`query.${param}`);
}

describe('auth', () => {
  it('401 without the key or with a wrong one, on every route; every answer has x-request-id', async () => {
    const some = sim.store.all()[0]?.id as string;
    const routes: [string, string][] = [
      ['GET', '/jobs'],
      ['GET', `/jobs/${some}`],
      ['POST', '/jobs'],
      ['POST', `/jobs/${some}/cancel`],
      ['POST', `/jobs/${some}/retry`],
    ];
    for (const [method, path] of routes) {
      for (const apiKey of [null, 'sk-wrong', 'sk-errors-tes']) {
        const r = await call<Detail>(sim, method, path, { apiKey });
        expect(r.status).toBe(401);
        expect(r.body.detail.code).toBe('unauthorized');
        expect(r.body.detail.message).toMatch(/Api-Key/);
        expect(r.headers.get('x-request-id')).toMatch(/^req_/);
      }
    }
    const ok = await call(sim, 'GET', '/jobs');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toMatch(/^req_/);
  });
});

describe('GET /v1/jobs validation', () => {
  it('422 for a bad enum, limit 0/101/text, a bad date, bad metadata, include_response with limit > 20, before+after', async () => {
    const id = sim.store.all()[0]?.id as string;
    expect422(await call(sim, 'GET', '/jobs', { query: { status: 'done' } }), 'status');
    expect422(await call(sim, 'GET', '/jobs', { query: { endpoint: '/v1/documents/nope' } }), 'endpoint');
    expect422(await call(sim, 'GET', '/jobs', { query: { source: 'cli' } }), 'source');
    expect422(await call(sim, 'GET', '/jobs', { query: { order: 'newest' } }), 'order');
    expect422(await call(sim, 'GET', '/jobs', { query: { document_type: 'exe' } }), 'document_type');
    expect422(await call(sim, 'GET', '/jobs', { query: { limit: 0 } }), 'limit');
    expect422(await call(sim, 'GET', '/jobs', { query: { limit: 101 } }), 'limit');
    expect422(await call(sim, 'GET', '/jobs', { query: { limit: 'ten' } }), 'limit');
    expect422(await call(sim, 'GET', '/jobs', { query: { from_date: '2026-13-01' } }), 'from_date');
    expect422(await call(sim, 'GET', '/jobs', { query: { to_date: '01/11/2026' } }), 'to_date');
    expect422(await call(sim, 'GET', '/jobs', { query: { metadata: '{not json' } }), 'metadata');
    expect422(await call(sim, 'GET', '/jobs', { query: { metadata: '["a"]' } }), 'metadata');
    expect422(
      await call(sim, 'GET', '/jobs', { query: { include_response: true, limit: 50 } }),
      'include_response',
    );
    expect422(
      await call(sim, 'GET', '/jobs', { query: { include_response: true, limit: 21 } }),
      'include_response',
    );
    expect422(await call(sim, 'GET', '/jobs', { query: { include_request: 'maybe' } }), 'include_request');
    expect422(await call(sim, 'GET', '/jobs', { query: { before: id, after: id } }), 'before');
    expect((await call(sim, 'GET', '/jobs', { query: { include_response: true } })).status).toBe(200);
    expect((await call(sim, 'GET', '/jobs', { query: { include_response: true, limit: 20 } })).status).toBe(
      200,
    );
  });

  it('400 invalid_cursor for an unknown or removed cursor, with the code/message/details shape', async () => {
    for (const param of ['after', 'before']) {
      const r = await call<Detail>(sim, 'GET', '/jobs', { query: { [param]: 'job_doesnotexist000000000' } });
      expect(r.status).toBe(400);
      expect(r.body.detail.code).toBe('invalid_cursor');
      expect(r.body.detail.message).toContain('job_doesnotexist000000000');
      expect(r.body.detail.details).toEqual({ param, cursor: 'job_doesnotexist000000000' });
    }
    const gone = sim.store.all()[5]?.id as string;
    expect((await call(sim, 'GET', '/jobs', { query: { after: gone } })).status).toBe(200);
    sim.store.remove(gone);
    expect((await call<Detail>(sim, 'GET', '/jobs', { query: { after: gone } })).body.detail.code).toBe(
      'invalid_cursor',
    );
  });
});

describe('GET /v1/jobs/{id}', () => {
  it('returns the job, request/response only when asked; 404 not_found when unknown or removed', async () => {
    const truth = sim.store.all().find((j) => j.status === 'completed');
    if (!truth) throw new Error('no completed job');
    const plain = await call<Record<string, unknown>>(sim, 'GET', `/jobs/${truth.id}`);
    expect(plain.status).toBe(200);
    expect(plain.body).toEqual({ ...truth, request: null, response: null });
    const full = await call(sim, 'GET', `/jobs/${truth.id}`, {
      query: { include_request: true, include_response: true },
    });
    expect(full.body).toEqual(truth);
    expect422(
      await call(sim, 'GET', `/jobs/${truth.id}`, { query: { include_request: 'yes' } }),
      'include_request',
    );

    const missing = await call<Detail>(sim, 'GET', '/jobs/job_nope');
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatchObject({ code: 'not_found', details: { id: 'job_nope' } });
    // A malformed percent-escape is an unknown id as written, as upstream's unquote leaves it: not a 500.
    const malformed = await call<Detail>(sim, 'GET', '/jobs/job_%E0%A4%A');
    expect(malformed.status).toBe(404);
    expect(malformed.body.detail).toMatchObject({ code: 'not_found', details: { id: 'job_%E0%A4%A' } });
    sim.store.remove(truth.id);
    expect((await call(sim, 'GET', `/jobs/${truth.id}`)).status).toBe(404);
  });

  it('unknown paths are 404 and wrong methods 405, in the framework shape', async () => {
    expect(await call(sim, 'GET', '/nothing-here')).toMatchObject({
      status: 404,
      body: { detail: 'Not Found' },
    });
    expect(await call(sim, 'DELETE', '/jobs')).toMatchObject({
      status: 405,
      body: { detail: 'Method Not Allowed' },
    });
  });
});

describe('POST /v1/jobs, cancel, retry', () => {
  it('creates a validating job with the posted request and metadata', async () => {
    const r = await call<Record<string, unknown>>(sim, 'POST', '/jobs', {
      body: {
        endpoint: '/v1/documents/extract',
        request: { document: { filename: 'a.pdf' }, model: 'gpt-5' },
        metadata: { k: 'v' },
      },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      object: 'job',
      status: 'validating',
      endpoint: '/v1/documents/extract',
      request: { document: { filename: 'a.pdf' }, model: 'gpt-5' },
      metadata: { k: 'v' },
      created_at: Math.floor(sim.clock.now() / 1000),
      started_at: null,
      completed_at: null,
    });
    expect(r.body.id).toMatch(/^job_[A-Za-z0-9_-]{21}$/);
    expect(r.body.expires_at).toBe((r.body.created_at as number) + 7 * 86_400);
    expect(sim.store.get(r.body.id as string)?.request).toEqual({
      document: { filename: 'a.pdf' },
      model: 'gpt-5',
    });
  });

  it('422 for a bad endpoint, a missing request, too many or too long metadata, a non-JSON body', async () => {
    const base = { endpoint: '/v1/documents/extract', request: {} };
    const bad = [
      { ...base, endpoint: '/v1/nope' },
      { endpoint: base.endpoint },
      { ...base, metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
      { ...base, metadata: { ['k'.repeat(65)]: 'v' } },
      { ...base, metadata: { k: 'v'.repeat(513) } },
      { ...base, metadata: { k: 1 } },
      [1, 2],
    ];
    for (const body of bad) {
      const r = await call<Validation>(sim, 'POST', '/jobs', { body });
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(r.body.detail[0]?.loc[0]).toBe('body');
    }
    const ok16 = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`k${i}`.padEnd(64, 'x'), 'v'.repeat(512)]),
    );
    expect((await call(sim, 'POST', '/jobs', { body: { ...base, metadata: ok16 } })).status).toBe(200);
    const notJson = await fetch(`${sim.url}/jobs`, {
      method: 'POST',
      headers: { 'Api-Key': sim.apiKey },
      body: '{oops',
    });
    expect(notJson.status).toBe(422);
  });

  it('cancel: in-flight → cancelled, 409 when terminal, 404 when unknown', async () => {
    const job = sim.store.create({ endpoint: '/v1/documents/parse', request: {} });
    const r = await call<Record<string, unknown>>(sim, 'POST', `/jobs/${job.id}/cancel`);
    expect(r.body).toMatchObject({ id: job.id, status: 'cancelled', completed_at: job.created_at });
    const again = await call<Detail>(sim, 'POST', `/jobs/${job.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatchObject({ code: 'invalid_job_state', details: { status: 'cancelled' } });
    expect((await call<Detail>(sim, 'POST', '/jobs/job_nope/cancel')).status).toBe(404);
  });

  it('retry: failed/cancelled/expired → queued (same id, created_at); 400 completed; 409 in flight', async () => {
    for (const status of ['failed', 'cancelled', 'expired']) {
      const job = sim.store.all().find((j) => j.status === status);
      if (!job) throw new Error(`no ${status} job in the data`);
      const r = await call<Record<string, unknown>>(sim, 'POST', `/jobs/${job.id}/retry`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        id: job.id,
        status: 'queued',
        created_at: job.created_at,
        expires_at: job.expires_at,
        started_at: null,
        completed_at: null,
        error: null,
      });
    }
    const done = sim.store.all().find((j) => j.status === 'completed');
    const r400 = await call<Detail>(sim, 'POST', `/jobs/${done?.id}/retry`);
    expect(r400.status).toBe(400);
    expect(r400.body.detail.code).toBe('job_not_retryable');
    const fresh = sim.store.create({ endpoint: '/v1/documents/parse', request: {} });
    const r409 = await call<Detail>(sim, 'POST', `/jobs/${fresh.id}/retry`);
    expect(r409.status).toBe(409);
    expect(r409.body.detail).toMatchObject({ code: 'invalid_job_state', details: { status: 'validating' } });
    expect((await call(sim, 'POST', '/jobs/job_nope/retry')).status).toBe(404);
  });
});
