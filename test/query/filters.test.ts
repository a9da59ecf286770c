/**
 * Each list filter over the mirror, against expectations written by hand from a small set of known jobs, on
 * every store (test/stores.ts): loaded through the seam by a writer, read by a second, read-only connection
 * (as the server and the CLI hold it).
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { InvalidCursorError } from '../../src/mirror/queryJobs.ts';
import { type NormalizedListParams, parseListQuery } from '../../src/retab/params.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { forEachStore } from '../stores.ts';
import { loadStore, makeJob } from './helpers.ts';

const at = (iso: string) => Date.parse(iso) / 1000;

const A = makeJob({ filenames: ['Invoice_2026.PDF'], metadata: { customer: 'acme', batch: 'b1' } });
const B = makeJob({ filenames: ['scan.png', 'notes.TXT'], metadata: { customer: 'acme' } });
const C = makeJob({
  filenames: ['contract.docx'],
  metadata: { customer: 'globex', workflow_id: 'wf_1', workflow_node_id: 'n1' },
  request: { project_id: 'proj_1', document: { filename: 'contract.docx', url: 'u' } },
});
const D = makeJob({
  request: { project_id: 'proj_1', model: 'm2', document: { filename: 'd.xlsx', url: 'u' } },
});
const E = makeJob({ filenames: ['e.jpg'], metadata: { workflow_id: 'wf_2', node_id: 'n2' } });
const F = makeJob({ filenames: ['Ünïcode_Résumé.docx'] });
const G = makeJob({ filenames: ['100%_done_[x].csv'] });
const K = makeJob({ filenames: ['('] });
const KELVIN = makeJob({ filenames: ['\u212Aelvin.pdf'] });
const TAXI = makeJob({ filenames: ['TAX\u0130.png'] });
const LONG = makeJob({ filenames: [`${'a'.repeat(100_000)}b`] });
// The day boundary: the last second of 2026-10-25 and the first of 2026-10-26.
const H = makeJob({ filenames: ['h.pdf'], created_at: at('2026-10-25T23:59:59Z') });
const I = makeJob({ filenames: ['i.pdf'], created_at: at('2026-10-26T00:00:00Z') });
const ALL = [A, B, C, D, E, F, G, K, KELVIN, TAXI, LONG, H, I];

function params(query: Record<string, string | string[]>): NormalizedListParams {
  const parsed = parseListQuery({ limit: '100', ...query });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.body));
  return parsed.params;
}
/** Expected ids in the default listing order (newest first, ties by id descending). */
const newestFirst = (...jobs: Job[]) =>
  [...jobs].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1)).map((j) => j.id);

forEachStore((store) => {
  let location = '';
  beforeAll(async () => {
    location = await store.location();
    const writer = await store.reopen(location);
    await loadStore(writer, ALL);
    await writer.close();
  });
  let reader: MirrorStore;
  beforeEach(async () => {
    reader = await store.reopen(location, { readonly: true });
  });
  const query = (q: Record<string, string | string[]>) => reader.jobs.query(params(q));
  const ids = async (q: Record<string, string | string[]>) => (await query(q)).data.map((j) => j.id);

  describe('filters', () => {
    it('metadata: every pair must equal the job metadata', async () => {
      expect(await ids({ metadata: '{"customer":"acme"}' })).toEqual(newestFirst(A, B));
      expect(await ids({ metadata: '{"customer":"acme","batch":"b1"}' })).toEqual(newestFirst(A));
      expect(await ids({ metadata: '{"customer":"ACME"}' })).toEqual([]);
      expect(await ids({ metadata: '{"customer":"acme","batch":"b2"}' })).toEqual([]);
    });

    it('document_type: any file of the job, repeated or comma-joined', async () => {
      expect(await ids({ document_type: ['png', 'xlsx'] })).toEqual(newestFirst(B, D, TAXI));
      expect(await ids({ document_type: 'png,xlsx' })).toEqual(newestFirst(B, D, TAXI));
      expect(await ids({ document_type: 'txt' })).toEqual(newestFirst(B)); // `notes.TXT`, lower-cased
      expect(await ids({ document_type: 'pdf' })).toEqual(newestFirst(A, KELVIN, H, I));
    });

    it('filename_regex: anchored, case-insensitive, plain text when it does not compile', async () => {
      expect(await ids({ filename_regex: 'invoice_\\d+\\.pdf' })).toEqual(newestFirst(A));
      expect(await ids({ filename_regex: 'invoice' })).toEqual([]); // the whole name must match
      expect(await ids({ filename_regex: '.*\\.TXT' })).toEqual(newestFirst(B));
      expect(await ids({ filename_regex: '(' })).toEqual(newestFirst(K));
      expect(await ids({ filename_regex: 'a+b' })).toEqual(newestFirst(LONG));
      // Exponential for a backtracking engine on the 100k-char name; linear in RE2.
      expect(await ids({ filename_regex: '(a+)+$' })).toEqual([]);
    });

    it('filename_contains: case-insensitive substring, Unicode case folding included', async () => {
      expect(await ids({ filename_contains: 'VOICE' })).toEqual(newestFirst(A));
      expect(await ids({ filename_contains: '%_' })).toEqual(newestFirst(G)); // no LIKE wildcards
      expect(await ids({ filename_contains: '[x]' })).toEqual(newestFirst(G));
      expect(await ids({ filename_contains: 'RÉSUMÉ' })).toEqual(newestFirst(F));
      expect(await ids({ filename_contains: 'kelvin' })).toEqual(newestFirst(KELVIN)); // U+212A folds to `k`
      expect(await ids({ filename_contains: 'taxi' })).toEqual(newestFirst(TAXI)); // U+0130 folds to `i` + a dot
    });

    it('source, project, workflow and node (node_id and the workflow_block_id alias)', async () => {
      expect(await ids({ source: 'workflow' })).toEqual(newestFirst(C, E));
      expect(await ids({ source: 'project' })).toEqual(newestFirst(D));
      expect(await ids({ source: 'api' })).toEqual(newestFirst(A, B, F, G, K, KELVIN, TAXI, LONG, H, I));
      expect(await ids({ project_id: 'proj_1' })).toEqual(newestFirst(C, D));
      expect(await ids({ workflow_id: 'wf_2' })).toEqual(newestFirst(E));
      expect(await ids({ workflow_node_id: 'n2' })).toEqual(newestFirst(E));
      expect(await ids({ workflow_block_id: 'n1' })).toEqual(newestFirst(C));
      expect(await ids({ model: 'm2' })).toEqual(newestFirst(D));
    });

    it('dates are UTC days, inclusive: 23:59:59 is in the day, 00:00:00 next day is not', async () => {
      expect(await ids({ to_date: '2026-10-25', from_date: '2026-10-25' })).toEqual([H.id]);
      expect(await ids({ from_date: '2026-10-26' })).toEqual([I.id]);
      expect(await ids({ to_date: '2026-10-25' })).not.toContain(I.id);
      expect(await ids({ from_date: '2026-10-26', to_date: '2026-10-25' })).toEqual([]); // reversed: empty, no error
    });
  });

  describe('paging', () => {
    it('before/after name positions; has_more looks in the direction of travel', async () => {
      const order = newestFirst(...ALL);
      const first = await query({ limit: '3' });
      expect(first.data.map((j) => j.id)).toEqual(order.slice(0, 3));
      expect(first.has_more).toBe(true);
      const next = await query({ limit: '3', after: first.last_id as string });
      expect(next.data.map((j) => j.id)).toEqual(order.slice(3, 6));
      const back = await query({ limit: '2', before: next.first_id as string });
      expect(back.data.map((j) => j.id)).toEqual(order.slice(1, 3)); // still newest first
      expect(back.has_more).toBe(true);
      const start = await query({ limit: '5', before: order[2] as string });
      expect(start.data.map((j) => j.id)).toEqual(order.slice(0, 2));
      expect(start.has_more).toBe(false);
      const end = await query({ limit: '100', after: order[order.length - 2] as string });
      expect(end).toMatchObject({ first_id: order[order.length - 1], has_more: false });
    });

    it('a cursor need not match the filters; an unknown one is invalid_cursor', async () => {
      // G is not from acme, yet `after=G` still means "older than G".
      const page = await query({ metadata: '{"customer":"acme"}', after: G.id });
      expect(page.data.map((j) => j.id)).toEqual(newestFirst(A, B));
      await expect(query({ after: 'job_unknown' })).rejects.toThrow(InvalidCursorError);
      let caught: unknown;
      try {
        await query({ before: 'job_unknown' });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidCursorError);
      expect((caught as InvalidCursorError).body.detail).toMatchObject({
        code: 'invalid_cursor',
        details: { param: 'before', cursor: 'job_unknown' },
      });
    });

    it('payloads only when asked', async () => {
      const plain = await query({ id: A.id });
      expect(plain.data[0]).toMatchObject({ id: A.id, request: null, response: null, metadata: A.metadata });
      const full = await query({ id: A.id, include_request: 'true', include_response: 'true', limit: '5' });
      expect(full.data[0]?.request).toEqual(A.request);
      expect(full.data[0]?.response).toEqual(A.response);
    });
  });
});
