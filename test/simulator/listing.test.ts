import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINTS, JOB_STATUSES, type Job, JobSchema, SOURCES } from '../../src/retab/schemas.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { ids, list, type Query, walk } from './http.ts';
import { type RefQuery, reference } from './reference.ts';

const NO_CURSORS = { before: null, after: null };

// The indexed listing against a brute-force reference over the same ground truth, over real HTTP.
const NOW = Date.parse('2026-11-01T12:00:00Z');
let sim: Simulator;
let all: Job[];

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, jobs: 2000, days: 20, now: NOW });
  // Posted jobs with multi-document requests and awkward filenames.
  sim.store.create({
    endpoint: '/v1/documents/split',
    request: { documents: [{ filename: 'weird(.pdf' }, { filename: 'Report.Final.PNG' }], model: 'gpt-5' },
    metadata: { customer: 'acme', priority: 'high' },
  });
  sim.store.create({
    endpoint: '/v1/documents/parse',
    request: { document: { filename: 'noext' } },
    metadata: null,
  });
  all = sim.store.all();
});
afterAll(() => sim.close());

function counts<T extends string>(values: T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** A value of `pick` that many jobs share (so the filter is non-trivial). */
function common(pick: (j: Job) => string | undefined | null): string {
  const m = counts(all.map(pick).filter((v): v is string => typeof v === 'string'));
  return [...m.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none';
}

async function expectSameAsReference(q: RefQuery & Query, limit = 100) {
  for (const order of ['desc', 'asc'] as const) {
    const pages = await walk(sim, { ...q, order, limit });
    const expected = ids(reference(all, { ...q, order }));
    expect(
      pages.flatMap((p) => ids(p.data)),
      JSON.stringify({ ...q, order }),
    ).toEqual(expected);
    pages.forEach((p, i) => {
      expect(p.object).toBe('list');
      expect(p.data.length).toBeLessThanOrEqual(limit);
      expect(p.has_more).toBe(i < pages.length - 1);
      expect(p.first_id).toBe(p.data[0]?.id ?? null);
      expect(p.last_id).toBe(p.data.at(-1)?.id ?? null);
      for (const j of p.data) {
        expect(j.request).toBeNull();
        expect(j.response).toBeNull();
      }
    });
  }
}

describe('GET /v1/jobs filters match the brute-force reference', () => {
  it('no filter, and every status, endpoint and source', async () => {
    await expectSameAsReference({});
    for (const status of JOB_STATUSES) await expectSameAsReference({ status });
    for (const endpoint of ENDPOINTS) await expectSameAsReference({ endpoint });
    for (const source of SOURCES) await expectSameAsReference({ source });
  });

  it('project, workflow, workflow node (and its alias), model, id', async () => {
    const nodeUnderNodeId = common((j) => j.metadata?.node_id);
    const nodeUnderWorkflowNodeId = common((j) => j.metadata?.workflow_node_id);
    await expectSameAsReference({ project_id: common((j) => j.request?.project_id as string) });
    await expectSameAsReference({ workflow_id: common((j) => j.metadata?.workflow_id) });
    await expectSameAsReference({ workflow_node_id: nodeUnderNodeId });
    await expectSameAsReference({ workflow_node_id: nodeUnderWorkflowNodeId });
    await expectSameAsReference({ workflow_block_id: nodeUnderWorkflowNodeId });
    await expectSameAsReference({ model: 'gpt-4.1-mini' });
    await expectSameAsReference({ model: 'no-such-model' });
    const one = all[1234] as Job;
    await expectSameAsReference({ id: one.id });
    await expectSameAsReference({ id: one.id, status: one.status === 'completed' ? 'failed' : 'completed' });
  });

  it('filename_regex (anchored, case-insensitive, invalid pattern as text) and filename_contains', async () => {
    for (const filename_regex of [
      'invoice_.*\\.pdf',
      'scan .*',
      'IMG_1\\d+\\.(jpg|png)',
      'weird(.pdf',
      'voice',
    ]) {
      await expectSameAsReference({ filename_regex });
    }
    expect(reference(all, { filename_regex: 'weird(.pdf' })).toHaveLength(1);
    for (const filename_contains of ['SCAN', '_2026_0', '(', 'final'])
      await expectSameAsReference({ filename_contains });
  });

  it('document_type: single, repeated, comma-joined, any case', async () => {
    await expectSameAsReference({ document_type: 'pdf' });
    await expectSameAsReference({ document_type: ['png', 'jpg'] });
    await expectSameAsReference({ document_type: 'PNG,heic' });
    await expectSameAsReference({ document_type: 'xlsb' });
  });

  it('from_date / to_date are inclusive UTC days; from after to is an empty list', async () => {
    await expectSameAsReference({ from_date: '2026-10-25' });
    await expectSameAsReference({ to_date: '2026-10-20' });
    await expectSameAsReference({ from_date: '2026-10-20', to_date: '2026-10-20' });
    await expectSameAsReference({ from_date: '2026-10-18', to_date: '2026-10-24', status: 'failed' });
    const empty = await list(sim, { from_date: '2026-10-24', to_date: '2026-10-18' });
    expect(empty).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
      list_metadata: NO_CURSORS,
    });
  });

  it('metadata: every pair must match', async () => {
    await expectSameAsReference({ metadata: JSON.stringify({ customer: 'acme' }) });
    await expectSameAsReference({ metadata: JSON.stringify({ customer: 'acme', priority: 'high' }) });
    await expectSameAsReference({
      metadata: JSON.stringify({ batch_id: common((j) => j.metadata?.batch_id) }),
    });
    await expectSameAsReference({ metadata: JSON.stringify({ customer: 'nobody' }) });
    await expectSameAsReference({ metadata: '{}' });
  });

  it('filters combined', async () => {
    await expectSameAsReference({
      status: 'completed',
      endpoint: '/v1/documents/extract',
      from_date: '2026-10-22',
    });
    await expectSameAsReference({ source: 'workflow', model: 'gpt-4.1', document_type: 'pdf' });
    await expectSameAsReference({
      status: 'failed',
      metadata: JSON.stringify({ customer: 'globex' }),
      filename_contains: 'a',
    });
  });
});

describe('cursors', () => {
  it('walking forward then backward gives the same pages, in both orders', async () => {
    for (const q of [
      {},
      { status: 'completed' },
      { source: 'project', from_date: '2026-10-15' },
    ] as Query[]) {
      for (const order of ['desc', 'asc'] as const) {
        const forward = await walk(sim, { ...q, order, limit: 50 });
        expect(forward.length).toBeGreaterThan(2);
        const last = forward.at(-1);
        const backward = await walk(sim, { ...q, order, limit: 50 }, last?.first_id ?? undefined);
        expect(backward.map((p) => ids(p.data))).toEqual(
          forward
            .slice(0, -1)
            .reverse()
            .map((p) => ids(p.data)),
        );
        // Going back, has_more says whether pages remain further back.
        expect(backward.map((p) => p.has_more)).toEqual(backward.map((_, i) => i < backward.length - 1));
      }
    }
  });

  it('before/after name a position, valid even when that job does not match the filters', async () => {
    for (const order of ['desc', 'asc'] as const) {
      const sorted = reference(all, { order });
      const completed = reference(all, { order, status: 'completed' });
      for (const cursor of [sorted[10], sorted[999], sorted[2000]].filter(
        (j) => j?.status !== 'completed',
      ) as Job[]) {
        const pos = (j: Job) => sorted.indexOf(j);
        const after = completed.filter((j) => pos(j) > pos(cursor));
        const before = completed.filter((j) => pos(j) < pos(cursor));
        const a = await list(sim, { order, status: 'completed', after: cursor.id, limit: 20 });
        expect(ids(a.data)).toEqual(ids(after.slice(0, 20)));
        expect(a.has_more).toBe(after.length > 20);
        const b = await list(sim, { order, status: 'completed', before: cursor.id, limit: 20 });
        expect(ids(b.data)).toEqual(ids(before.slice(-20)));
        expect(b.has_more).toBe(before.length > 20);
      }
    }
  });

  it('a cursor stays valid after its job changed status between two pages', async () => {
    const first = await list(sim, { status: 'queued', limit: 1, order: 'asc' });
    const x = first.last_id as string;
    sim.store.cancel(x);
    const next = await list(sim, { status: 'queued', limit: 100, order: 'asc', after: x });
    const truth = reference(sim.store.all(), { status: 'queued', order: 'asc' });
    expect(ids(next.data)).toEqual(ids(truth.slice(0, 100)));
  });

  it('ties on created_at are ordered by id in the listing direction and split across pages', async () => {
    const bySecond = counts(all.map((j) => String(j.created_at)));
    const [second, size] = [...bySecond.entries()].sort((a, b) => b[1] - a[1])[0] as [string, number];
    expect(size).toBeGreaterThan(10);
    const day = new Date(Number(second) * 1000).toISOString().slice(0, 10);
    for (const order of ['desc', 'asc'] as const) {
      const pages = await walk(sim, { order, limit: 7, from_date: day, to_date: day });
      const tie = pages.flatMap((p) => p.data).filter((j) => String(j.created_at) === second);
      const sortedIds = ids(tie).sort();
      expect(ids(tie)).toEqual(order === 'asc' ? sortedIds : sortedIds.reverse());
      expect(tie).toHaveLength(size);
      await expectSameAsReference({ from_date: day, to_date: day }, 7);
    }
  });

  it('has_more, first_id and last_id on the first, a middle, the last and an empty page', async () => {
    const truth = ids(reference(all, { status: 'failed' }));
    const firstPage = await list(sim, { status: 'failed', limit: 30 });
    expect([firstPage.first_id, firstPage.last_id, firstPage.has_more]).toEqual([truth[0], truth[29], true]);
    const middle = await list(sim, { status: 'failed', limit: 30, after: truth[29] });
    expect([middle.first_id, middle.last_id, middle.has_more]).toEqual([truth[30], truth[59], true]);
    const tail = truth.length % 30 || 30;
    const lastPage = await list(sim, { status: 'failed', limit: 30, after: truth[truth.length - tail - 1] });
    expect([lastPage.first_id, lastPage.last_id, lastPage.has_more]).toEqual([
      truth[truth.length - tail],
      truth.at(-1),
      false,
    ]);
    const empty = await list(sim, { status: 'failed', limit: 30, after: truth.at(-1) });
    expect(empty).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
      list_metadata: NO_CURSORS,
    });
    const beforeFirst = await list(sim, { status: 'failed', before: truth[0] });
    expect(beforeFirst).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
      list_metadata: NO_CURSORS,
    });
  });
});

describe('indexes stay in step', () => {
  it('with creates, removals and status changes after a filter was first used', async () => {
    const filters: Query[] = [
      { metadata: JSON.stringify({ customer: 'acme' }) },
      { model: 'gpt-5' },
      { document_type: 'pdf' },
      { workflow_node_id: 'node_test' },
      { status: 'validating' },
    ];
    for (const q of filters) await list(sim, q);
    const created = sim.store.create({
      endpoint: '/v1/documents/extract',
      request: { document: { filename: 'late.pdf' }, model: 'gpt-5' },
      metadata: { customer: 'acme', workflow_id: 'wf_test', workflow_node_id: 'node_test' },
    });
    // Newest first (other jobs may share its second, so look at the first page rather than the first item).
    for (const q of filters) expect(ids((await list(sim, q)).data), JSON.stringify(q)).toContain(created.id);
    sim.store.cancel(created.id);
    expect((await list(sim, { status: 'validating' })).data.map((j) => j.id)).not.toContain(created.id);
    expect(ids((await list(sim, { status: 'cancelled' })).data)).toContain(created.id);
    sim.store.remove(created.id);
    for (const q of [...filters, { status: 'cancelled' }]) {
      expect((await list(sim, q)).data.map((j) => j.id)).not.toContain(created.id);
    }
    all = sim.store.all();
  });
});

describe('include flags', () => {
  it('include_request and include_response return the ground-truth payloads, the same every time', async () => {
    const byId = new Map(all.map((j) => [j.id, j]));
    const page = await list(sim, {
      include_request: true,
      include_response: true,
      limit: 20,
      status: 'completed',
    });
    const again = await list(sim, {
      include_request: true,
      include_response: true,
      limit: 20,
      status: 'completed',
    });
    expect(again.data).toEqual(page.data);
    for (const j of page.data) {
      expect(JobSchema.safeParse(j).success).toBe(true);
      expect(j.request).toEqual(byId.get(j.id)?.request);
      expect(j.response).toEqual(byId.get(j.id)?.response);
      expect(j.response?.status_code).toBe(200);
    }
    const requestsOnly = await list(sim, { include_request: 'true', limit: 100 });
    for (const j of requestsOnly.data) {
      expect(j.request).toEqual(byId.get(j.id)?.request);
      expect(j.response).toBeNull();
    }
  });
});
