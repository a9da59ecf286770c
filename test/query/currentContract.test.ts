/**
 * What Retab's clients since May 2026 send and expect (retab-dev/retab e66c97c6, ba980992), on both servers a
 * client can point at: the simulator (upstream) and the local API over a mirror synced from it. The jobs
 * carry the current endpoint names and the new Job fields. On each store (test/stores.ts).
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MirrorStore, openStore } from '../../src/mirror/index.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { runHead } from '../../src/sync/index.ts';
import { jobRow } from '../storeSql.ts';
import { forEachStore } from '../stores.ts';
import { HEAD, type StoreWorld, storeWorld } from '../sync/helpers.ts';
import { LOCAL_CONFIG, listen } from './helpers.ts';

let w: StoreWorld;
let reader: MirrorStore;
let local: { app: FastifyInstance; base: string };
let bases: [string, string, Record<string, string>][];

forEachStore((store) => {
  beforeAll(async () => {
    w = await storeWorld(store, { jobs: 600, days: 3, endpointNames: 'current' }, {}, { shared: true });
    // PAYLOAD_MODE=request: requests are mirrored, responses are not.
    const pass = await runHead(w.deps, HEAD);
    expect(pass.outcome).toBe('success');
    reader = await openStore(w.location, { readonly: true });
    local = await listen({
      mirror: reader,
      config: LOCAL_CONFIG,
      upstream: { client: w.client, writer: w.mirror },
    });
    bases = [
      ['simulator', w.sim.url, { 'Api-Key': w.sim.apiKey }],
      ['local API', `${local.base}/v1`, {}],
    ];
  });
  afterAll(async () => {
    await local.app.close();
    await reader.close();
    await w.close();
  });

  async function get(url: string, headers: Record<string, string> = {}) {
    const res = await fetch(url, { headers });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  const OLD_FIELDS = ['id', 'object', 'status', 'endpoint', 'request', 'response', 'error', 'created_at'];
  const NEW_FIELDS = ['warnings', 'cancelled', 'attempt_count', 'last_attempt_at', 'last_failure_code'];

  describe.each([0, 1])('server %#: the superset contract', (i) => {
    const at = () => bases[i] as [string, string, Record<string, string>];

    it('sends both envelopes at once and every old and new Job field', async () => {
      const [, base, headers] = at();
      const { status, body } = await get(`${base}/jobs?limit=3`, headers);
      expect(status).toBe(200);
      const data = body.data as Job[];
      expect(body).toMatchObject({
        object: 'list',
        first_id: data[0]?.id,
        last_id: data[2]?.id,
        has_more: true,
      });
      expect(body.list_metadata).toEqual({ before: null, after: data[2]?.id });
      for (const job of data) for (const f of [...OLD_FIELDS, ...NEW_FIELDS]) expect(job).toHaveProperty(f);
      expect(data.every((j) => typeof j.attempt_count === 'number')).toBe(true);
    });

    it('filters the exact id by job_id or id', async () => {
      const [, base, headers] = at();
      const one = (await get(`${base}/jobs?limit=1`, headers)).body.data as Job[];
      const id = one[0]?.id as string;
      for (const q of [`job_id=${id}`, `id=${id}`, `job_id=${id}&id=${id}`]) {
        const data = (await get(`${base}/jobs?${q}`, headers)).body.data as Job[];
        expect(data.map((j) => j.id)).toEqual([id]);
      }
      expect((await get(`${base}/jobs?job_id=job_${'z'.repeat(21)}`, headers)).body.data).toEqual([]);
    });

    it('accepts both endpoint families as filters; an unknown name is a 422', async () => {
      const [, base, headers] = at();
      const current = await get(`${base}/jobs?endpoint=/v1/extractions&limit=50`, headers);
      expect(current.status).toBe(200);
      const data = current.body.data as Job[];
      expect(data.length).toBeGreaterThan(0);
      expect(data.every((j) => j.endpoint === '/v1/extractions')).toBe(true);
      const legacy = await get(`${base}/jobs?endpoint=/v1/documents/extract`, headers);
      expect(legacy.status).toBe(200);
      expect(legacy.body.data).toEqual([]); // these jobs carry the current names
      expect((await get(`${base}/jobs?endpoint=/v1/nope`, headers)).status).toBe(422);
    });

    it('pages to the end following list_metadata.after alone, as the current clients do', async () => {
      const [, base, headers] = at();
      const seen: string[] = [];
      let after: string | null = null;
      for (let n = 0; n < 100; n++) {
        const q: string = after === null ? '' : `&after=${after}`;
        const body = (await get(`${base}/jobs?limit=100${q}`, headers)).body;
        seen.push(...(body.data as Job[]).map((j) => j.id));
        after = (body.list_metadata as { after: string | null }).after;
        if (after === null) break;
      }
      expect(seen).toHaveLength(600);
      expect(new Set(seen).size).toBe(600);
    });
  });

  it('the local API serves the new fields exactly as upstream sent them', async () => {
    const q = 'endpoint=/v1/extractions&limit=20';
    const up = await get(`${w.sim.url}/jobs?${q}`, { 'Api-Key': w.sim.apiKey });
    const mine = await get(`${local.base}/v1/jobs?${q}`);
    expect(mine.body).toEqual(up.body);
  });

  it('last_attempt_at: synced into its own column (not extra) and served by the local API as upstream sent it', async () => {
    const q = 'limit=100&order=asc';
    const up = (await get(`${w.sim.url}/jobs?${q}`, { 'Api-Key': w.sim.apiKey })).body.data as Job[];
    const mine = (await get(`${local.base}/v1/jobs?${q}`)).body.data as Job[];
    const attempted = up.filter((j) => typeof j.last_attempt_at === 'number');
    expect(attempted.length).toBeGreaterThan(0);
    expect(mine.map((j) => [j.id, j.last_attempt_at])).toEqual(
      up.map((j) => [j.id, j.last_attempt_at ?? null]),
    );
    for (const job of attempted) {
      const row = await jobRow(reader, job.id);
      expect(row?.lastAttemptAt).toBe(job.last_attempt_at);
      expect(row?.extra ?? '').not.toContain('last_attempt_at');
    }
  });

  describe('include_response on a mirror synced with PAYLOAD_MODE=request', () => {
    const completed = () => w.sim.store.all().filter((j) => j.status === 'completed');

    it('fetches the missing responses from upstream, stores them, and returns them', async () => {
      w.sim.stats.reset();
      const res = await get(`${local.base}/v1/jobs?status=completed&include_response=true&limit=5`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-mirror-payload')).toBe('complete');
      const data = res.body.data as Job[];
      expect(data).toHaveLength(5);
      for (const job of data) {
        expect(job.response).not.toBeNull();
        expect(job.response).toEqual(w.sim.store.get(job.id)?.response);
      }
      expect(w.sim.stats.count((r) => r.route === 'retrieve')).toBe(5);
      // Stored: the next reader gets them from the mirror, upstream is not asked again.
      const again = await get(`${local.base}/v1/jobs?status=completed&include_response=true&limit=5`);
      expect(again.headers.get('x-mirror-payload')).toBe('complete');
      expect(again.body.data).toEqual(data);
      expect(w.sim.stats.count((r) => r.route === 'retrieve')).toBe(5);
    });

    it('GET /v1/jobs/{id}?include_response=true (what wait_for_completion sends) gets the response too', async () => {
      const job = completed().at(-30) as Job;
      const res = await get(`${local.base}/v1/jobs/${job.id}?include_response=true`);
      expect(res.headers.get('x-mirror-payload')).toBe('complete');
      expect(res.body.response).toEqual(job.response);
    });

    it('without an API key: response null, and the header says the answer is partial', async () => {
      const bare = await listen({ mirror: reader, config: LOCAL_CONFIG });
      const job = completed().at(-40) as Job;
      const res = await get(`${bare.base}/v1/jobs/${job.id}?include_response=true`);
      expect(res.status).toBe(200);
      expect(res.body.response).toBeNull();
      expect(res.headers.get('x-mirror-payload')).toBe('partial');
      // A lightweight answer makes no claim.
      expect((await fetch(`${bare.base}/v1/jobs?limit=1`)).headers.get('x-mirror-payload')).toBeNull();
      await bare.app.close();
    });

    it('README: an SDK pointed at the local API with the documented base_url reads it', async () => {
      const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
      const documented = /base_url="(http:\/\/127\.0\.0\.1:8765\/v1)"/.exec(readme)?.[1];
      expect(documented).toBeDefined();
      const base = (documented as string).replace(':8765', `:${new URL(local.base).port}`);
      // Clients up to May 2026 append `/jobs` to the base URL; later ones strip `/v1` and append `/v1/jobs`.
      const older = await get(`${base}/jobs?limit=2`);
      const newer = await get(`${base.replace(/\/v\d+$/, '')}/v1/jobs?limit=2`);
      expect(older.status).toBe(200);
      expect(newer.body).toEqual(older.body);
      const client = createRetabClient({ apiKey: 'unused-by-an-open-server', baseUrl: base });
      expect((await client.listJobs({ limit: 2 })).data.map((j) => j.id)).toEqual(
        (older.body.data as Job[]).map((j) => j.id),
      );
    });

    it('with the upstream down: response null, and the header says the answer is partial', async () => {
      await w.sim.close();
      const res = await get(`${local.base}/v1/jobs?status=completed&include_response=true&limit=5&order=asc`);
      expect(res.status).toBe(200);
      const data = res.body.data as Job[];
      expect(data).toHaveLength(5);
      expect(data.every((j) => j.response === null)).toBe(true);
      expect(res.headers.get('x-mirror-payload')).toBe('partial');
    });
  });
});
