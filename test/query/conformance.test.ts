/**
 * The local API answers exactly what the upstream answers: the simulator and a mirror of the same data are
 * asked the same 300 random questions over real HTTP, and every status and body must be equal; on every
 * store (test/stores.ts), each served through a read-only connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MirrorStore, openStore } from '../../src/mirror/index.ts';
import { deriveSource, documentTypeOf, jobFilenames, workflowNodeId } from '../../src/retab/jobFields.ts';
import { parseListQuery } from '../../src/retab/params.ts';
import { ENDPOINTS, JOB_STATUSES, type Job, SOURCES } from '../../src/retab/schemas.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { forEachStore } from '../stores.ts';
import { getJson, LOCAL_CONFIG, listen, loadStore, prng } from './helpers.ts';

const NOW = Date.parse('2026-11-01T12:00:00Z');

let sim: Simulator;
let jobs: Job[];

beforeAll(async () => {
  sim = await startSimulator({ seed: 42, jobs: 3000, days: 10, now: NOW });
  jobs = sim.store.all();
});

afterAll(async () => {
  await sim?.close();
});

interface Pools {
  ids: string[];
  projects: string[];
  workflows: string[];
  nodes: string[];
  models: string[];
  pairs: [string, string][];
  filenames: string[];
  days: string[];
}

function pools(all: Job[]): Pools {
  const uniq = <T>(xs: (T | null | undefined)[]) => [...new Set(xs.filter((x): x is T => x != null))];
  return {
    ids: all.map((j) => j.id),
    projects: uniq(all.map((j) => j.request?.project_id as string | undefined)),
    workflows: uniq(all.map((j) => j.metadata?.workflow_id)),
    nodes: uniq(all.map((j) => workflowNodeId(j.metadata))),
    models: uniq(all.map((j) => j.request?.model as string | undefined)),
    pairs: uniq(all.flatMap((j) => Object.entries(j.metadata ?? {}).map(([k, v]) => `${k}\u0000${v}`))).map(
      (s) => s.split('\u0000') as [string, string],
    ),
    filenames: all.flatMap((j) => jobFilenames(j.request)),
    days: uniq(all.map((j) => new Date(j.created_at * 1000).toISOString().slice(0, 10))).sort(),
  };
}

/** One random `GET /v1/jobs` query: 0–3 filters, both orders, cursors, page sizes 1–100, payload flags. */
function randomQuery(
  rand: () => number,
  p: Pools,
  prev: { first_id: string | null; last_id: string | null },
) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const q = new URLSearchParams();
  const filters = [
    () => q.set('status', pick(JOB_STATUSES)),
    () => q.set('endpoint', pick(ENDPOINTS)),
    () => q.set('source', pick(SOURCES)),
    () => q.set('project_id', pick(p.projects)),
    () => q.set('workflow_id', pick(p.workflows)),
    () => q.set(rand() < 0.7 ? 'workflow_node_id' : 'workflow_block_id', pick(p.nodes)),
    () => q.set('model', pick(p.models)),
    () => {
      const pairs = [pick(p.pairs), ...(rand() < 0.3 ? [pick(p.pairs)] : [])];
      q.set('metadata', JSON.stringify(Object.fromEntries(pairs)));
    },
    () => {
      const types = [...new Set([0, 1, 2].slice(0, 1 + Math.floor(rand() * 2)).map(() => pick(p.filenames)))]
        .map((f) => documentTypeOf(f))
        .filter((t): t is string => t !== null);
      if (rand() < 0.5) q.set('document_type', types.join(','));
      else for (const t of types) q.append('document_type', t);
    },
    () => {
      const f = pick(p.filenames);
      const start = Math.floor(rand() * (f.length - 3));
      const sub = f.slice(start, start + 2 + Math.floor(rand() * 6));
      q.set('filename_contains', rand() < 0.5 ? sub.toUpperCase() : sub);
    },
    () => {
      const f = pick(p.filenames);
      const prefix = f.slice(0, 3 + Math.floor(rand() * 4));
      const ext = f.slice(f.lastIndexOf('.'));
      const patterns = [
        `${prefix}.*`,
        `.*\\d{5}\\${ext.toUpperCase()}`,
        `${prefix}[a-z_]+_\\d+\\.(pdf|png|jpg)`,
        `.*${ext}`,
      ];
      q.set('filename_regex', pick(patterns));
    },
    () => {
      const a = pick(p.days);
      const b = rand() < 0.2 ? pick(p.days) : a; // sometimes reversed: an empty list, not an error
      if (rand() < 0.8) q.set('from_date', a);
      if (rand() < 0.8) q.set('to_date', b);
    },
    () => q.set('id', pick(p.ids)),
  ];
  const n = pick([0, 1, 1, 1, 2, 2, 3]);
  for (let i = 0; i < n; i++) pick(filters)();
  if (rand() < 0.5) q.set('order', pick(['asc', 'desc'] as const));
  const includeResponse = rand() < 0.15;
  q.set('limit', String(1 + Math.floor(rand() * (includeResponse ? 20 : 100))));
  if (includeResponse) q.set('include_response', 'true');
  if (rand() < 0.3) q.set('include_request', 'true');
  const c = rand();
  if (c < 0.35 && prev.last_id) q.set('after', prev.last_id);
  else if (c < 0.5 && prev.first_id) q.set('before', prev.first_id);
  else if (c < 0.75) q.set(rand() < 0.5 ? 'after' : 'before', pick(p.ids));
  return q;
}

forEachStore((store) =>
  describe('GET /v1/jobs on the mirror equals the upstream', () => {
    let reader: MirrorStore;
    let local: Awaited<ReturnType<typeof listen>>;
    beforeAll(async () => {
      const location = await store.location();
      const writer = await openStore(location);
      await loadStore(writer, jobs);
      await writer.close();
      reader = await openStore(location, { readonly: true });
      local = await listen({ mirror: reader, config: LOCAL_CONFIG });
    }, 120_000);
    afterAll(async () => {
      await local?.app.close();
      await reader?.close();
    });

    const both = async (pathAndQuery: string) => {
      const headers = { 'Api-Key': sim.apiKey };
      const [up, mine] = await Promise.all([
        getJson(`${sim.url}${pathAndQuery}`, headers),
        getJson(`${local.base}/v1${pathAndQuery}`, headers),
      ]);
      return { up, mine };
    };

    it('300 random parameter combinations: same status, same body', async () => {
      const rand = prng(20261101);
      const p = pools(jobs);
      let prev: { first_id: string | null; last_id: string | null } = { first_id: null, last_id: null };
      const mismatches: { query: string; up: unknown; mine: unknown }[] = [];
      let nonEmpty = 0;
      let withCursor = 0;
      for (let i = 0; i < 300; i++) {
        const q = randomQuery(rand, p, prev);
        if (q.has('after') || q.has('before')) withCursor++;
        const { up, mine } = await both(`/jobs?${q}`);
        if (up.status !== mine.status || JSON.stringify(up.body) !== JSON.stringify(mine.body)) {
          expect(mine.body).toEqual(up.body); // a readable diff for the first one
          mismatches.push({ query: q.toString(), up, mine });
        }
        expect(up.status).toBe(200);
        // The same question through every plan: tiny walk windows reach the multi-window and files-scan paths.
        const parsed = parseListQuery(
          Object.fromEntries([...new Set(q.keys())].map((k) => [k, q.getAll(k)])),
        );
        if (!parsed.ok) throw new Error(`test built a bad query: ${q}`);
        const small = JSON.parse(JSON.stringify(await reader.jobs.query(parsed.params, { walkWindow: 3 })));
        if (JSON.stringify(small) !== JSON.stringify(up.body))
          mismatches.push({ query: `walkWindow=3 ${q}`, up, mine: small });
        const body = up.body as { data: Job[]; first_id: string | null; last_id: string | null };
        if (body.data.length > 0) {
          nonEmpty++;
          prev = body;
        }
      }
      expect(mismatches).toEqual([]);
      // The questions were real ones: most found jobs, many walked from a cursor.
      expect(nonEmpty).toBeGreaterThan(150);
      expect(withCursor).toBeGreaterThan(100);
    });

    it('walks the whole listing page by page both ways, as the upstream does', async () => {
      for (const order of ['desc', 'asc']) {
        let after: string | null = null;
        const seen: string[] = [];
        do {
          const q = `/jobs?order=${order}&limit=100${after ? `&after=${after}` : ''}`;
          const { up, mine } = await both(q);
          expect(mine).toEqual(up);
          const body = mine.body as { data: Job[]; last_id: string | null; has_more: boolean };
          seen.push(...body.data.map((j) => j.id));
          after = body.has_more ? body.last_id : null;
        } while (after);
        expect(seen).toHaveLength(jobs.length);
        expect(new Set(seen).size).toBe(jobs.length);
      }
    });

    it('every source is classified as the upstream classifies it', async () => {
      for (const source of SOURCES) {
        const expected = jobs.filter((j) => deriveSource(j.metadata, j.request) === source).length;
        let count = 0;
        let after: string | null = null;
        do {
          const { up, mine } = await both(
            `/jobs?source=${source}&limit=100${after ? `&after=${after}` : ''}`,
          );
          expect(mine).toEqual(up);
          const body = mine.body as { data: Job[]; last_id: string | null; has_more: boolean };
          count += body.data.length;
          after = body.has_more ? body.last_id : null;
        } while (after);
        expect(count).toBe(expected);
        expect(count).toBeGreaterThan(0);
      }
    });

    it('GET /v1/jobs/{id}: same job, same include flags, same 404', async () => {
      const rand = prng(7);
      for (let i = 0; i < 30; i++) {
        const id = jobs[Math.floor(rand() * jobs.length)]?.id as string;
        const flags = [
          '',
          '?include_request=true',
          '?include_response=true',
          '?include_request=1&include_response=1',
        ];
        const { up, mine } = await both(`/jobs/${id}${flags[i % flags.length]}`);
        expect(mine).toEqual(up);
        expect(mine.status).toBe(200);
      }
      for (const path of ['/jobs/job_doesnotexist000000000', '/jobs/job_x?include_request=true']) {
        const { up, mine } = await both(path);
        expect(mine.status).toBe(404);
        expect(mine).toEqual(up);
      }
      const bad = await both(`/jobs/${jobs[0]?.id}?include_request=perhaps`);
      expect(bad.mine.status).toBe(422);
      expect(bad.mine).toEqual(bad.up);
    });
  }),
);
