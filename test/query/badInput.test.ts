/**
 * Malformed queries: the local API refuses them exactly as the upstream does (same status, same body),
 * always with a 4xx and a `detail`, never a 5xx. Hostile regexes complete (RE2) and answer like upstream.
 * On each store (test/stores.ts): PostgreSQL's own regex dialect must not leak into an answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MirrorStore, openStore } from '../../src/mirror/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { forEachStore } from '../stores.ts';
import { getJson, LOCAL_CONFIG, listen, loadStore } from './helpers.ts';

let sim: Simulator;
let ids: string[];

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, jobs: 300, days: 5, now: Date.parse('2026-11-01T12:00:00Z') });
  // A name that makes a backtracking engine take exponential time on `(a+)+$`, and one that is literally `(`.
  sim.store.create({
    endpoint: '/v1/documents/extract',
    request: { document: { filename: `${'a'.repeat(100_000)}!`, url: 'https://example.test/a' } },
  });
  sim.store.create({ endpoint: '/v1/documents/parse', request: { document: { filename: '(', url: 'u' } } });
  const jobs = sim.store.all();
  ids = jobs.map((j) => j.id);
});

afterAll(async () => {
  await sim?.close();
});

const MALFORMED = [
  'status=bogus',
  'status=FAILED',
  'status=',
  'endpoint=/v1/nope',
  'endpoint=v1/documents/extract',
  'source=web',
  'source=API',
  'order=up',
  'order=DESC',
  'limit=0',
  'limit=101',
  'limit=abc',
  'limit=-1',
  'limit=1.5',
  'limit=',
  'limit=1e2',
  'limit=20&limit=500',
  'from_date=2026-13-01',
  'from_date=2026-02-30',
  'from_date=yesterday',
  'from_date=',
  'from_date=2026-10-01T00:00:00Z',
  'to_date=2026/10/01',
  'to_date=20261001',
  'to_date=0000-00-00',
  'metadata={bad',
  'metadata=[1,2]',
  'metadata="str"',
  'metadata=null',
  'metadata=123',
  'metadata={"a":1}',
  'metadata={"a":{"b":"c"}}',
  'include_response=true&limit=50',
  'include_response=true&limit=21',
  'include_request=true&include_response=true&limit=100',
  'include_request=maybe',
  'include_response=yes',
  'before=@0&after=@1',
  'after=job_doesnotexist',
  'before=job_doesnotexist',
  'order=asc&after=job_missing_cursor',
  'after=',
  'before=',
  'document_type=exe',
  'document_type=pdf,exe',
  'document_type=pdf&document_type=p%20df',
  'id=',
  'project_id=',
  'filename_regex=',
  'workflow_block_id=',
  'limit=abc&order=up&status=x',
];

const REGEXES = ['(a+)+$', '(a|aa)+$', '(', '(?=a)a', '[', 'a{2,', '\\', '.*', '(.*a){12}'];

forEachStore((store) => {
  let writer: MirrorStore;
  let reader: MirrorStore;
  let local: Awaited<ReturnType<typeof listen>>;
  // Opened here, not with store.open() (closed after each test): the file's tests share the server.
  beforeAll(async () => {
    const location = await store.location();
    writer = await openStore(location);
    await loadStore(writer, sim.store.all());
    reader = await openStore(location, { readonly: true });
    local = await listen({ mirror: reader, config: LOCAL_CONFIG });
  });
  afterAll(async () => {
    await local?.app.close();
    await reader?.close();
    await writer?.close();
  });

  describe('bad input', () => {
    it('50 malformed parameter sets: same 4xx and body as the upstream, never a 5xx', async () => {
      expect(MALFORMED.length).toBeGreaterThanOrEqual(50);
      const headers = { 'Api-Key': sim.apiKey };
      for (const raw of MALFORMED) {
        const query = raw.replace('@0', ids[0] as string).replace('@1', ids[1] as string);
        const [up, mine] = await Promise.all([
          getJson(`${sim.url}/jobs?${query}`, headers),
          getJson(`${local.base}/v1/jobs?${query}`, headers),
        ]);
        expect({ query, ...mine }).toEqual({ query, ...up });
        expect(mine.status, query).toBeGreaterThanOrEqual(400);
        expect(mine.status, query).toBeLessThan(500);
        expect(mine.body, query).toHaveProperty('detail');
      }
    });

    it('hostile and invalid regexes complete and answer like the upstream (plain text when they do not compile)', async () => {
      const headers = { 'Api-Key': sim.apiKey };
      const found: Record<string, number> = {};
      for (const re of REGEXES) {
        const q = `filename_regex=${encodeURIComponent(re)}&limit=100`;
        const [up, mine] = await Promise.all([
          getJson(`${sim.url}/jobs?${q}`, headers),
          getJson(`${local.base}/v1/jobs?${q}`, headers),
        ]);
        expect({ re, ...mine }).toEqual({ re, ...up });
        expect(mine.status).toBe(200);
        found[re] = (mine.body as { data: unknown[] }).data.length;
      }
      expect(found['(']).toBe(1); // the job literally named `(`
      expect(found['(a+)+$']).toBe(0);
      expect(found['.*']).toBe(100);
    });

    it('unknown paths and writes get the upstream bodies', async () => {
      const headers = { 'Api-Key': sim.apiKey };
      const notFound = await getJson(`${local.base}/v1/nothing`, headers);
      expect(notFound).toEqual(await getJson(`${sim.url.replace('/v1', '')}/v1/nothing`, headers));
      const post = await fetch(`${local.base}/v1/jobs`, { method: 'POST', headers, body: '{}' });
      expect(post.status).toBe(405);
      expect(await post.json()).toEqual({ detail: 'Method Not Allowed' });
    });
  });
});
