/** Each list filter over the mirror, against expectations written by hand from a small set of known jobs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError, queryJobs } from '../../src/mirror/queryJobs.ts';
import { type NormalizedListParams, parseListQuery } from '../../src/retab/params.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { load, makeJob, type TempMirror, tempMirror } from './helpers.ts';

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

let tmp: TempMirror;
beforeAll(() => {
  tmp = tempMirror();
  load(tmp.mirror, ALL);
});
afterAll(() => tmp?.cleanup());

function params(query: Record<string, string | string[]>): NormalizedListParams {
  const parsed = parseListQuery({ limit: '100', ...query });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.body));
  return parsed.params;
}
const ids = (query: Record<string, string | string[]>) =>
  queryJobs(tmp.reader, params(query)).data.map((j) => j.id);
/** Expected ids in the default listing order (newest first, ties by id descending). */
const newestFirst = (...jobs: Job[]) =>
  [...jobs].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1)).map((j) => j.id);

describe('filters', () => {
  it('metadata: every pair must equal the job metadata', () => {
    expect(ids({ metadata: '{"customer":"acme"}' })).toEqual(newestFirst(A, B));
    expect(ids({ metadata: '{"customer":"acme","batch":"b1"}' })).toEqual(newestFirst(A));
    expect(ids({ metadata: '{"customer":"ACME"}' })).toEqual([]);
    expect(ids({ metadata: '{"customer":"acme","batch":"b2"}' })).toEqual([]);
  });

  it('document_type: any file of the job, repeated or comma-joined', () => {
    expect(ids({ document_type: ['png', 'xlsx'] })).toEqual(newestFirst(B, D, TAXI));
    expect(ids({ document_type: 'png,xlsx' })).toEqual(newestFirst(B, D, TAXI));
    expect(ids({ document_type: 'txt' })).toEqual(newestFirst(B)); // `notes.TXT`, lower-cased
    expect(ids({ document_type: 'pdf' })).toEqual(newestFirst(A, KELVIN, H, I));
  });

  it('filename_regex: anchored, case-insensitive, plain text when it does not compile', () => {
    expect(ids({ filename_regex: 'invoice_\\d+\\.pdf' })).toEqual(newestFirst(A));
    expect(ids({ filename_regex: 'invoice' })).toEqual([]); // the whole name must match
    expect(ids({ filename_regex: '.*\\.TXT' })).toEqual(newestFirst(B));
    expect(ids({ filename_regex: '(' })).toEqual(newestFirst(K));
    expect(ids({ filename_regex: 'a+b' })).toEqual(newestFirst(LONG));
    // Exponential for a backtracking engine on the 100k-char name; linear in RE2.
    expect(ids({ filename_regex: '(a+)+$' })).toEqual([]);
  });

  it('filename_contains: case-insensitive substring, Unicode case folding included', () => {
    expect(ids({ filename_contains: 'VOICE' })).toEqual(newestFirst(A));
    expect(ids({ filename_contains: '%_' })).toEqual(newestFirst(G)); // no LIKE wildcards
    expect(ids({ filename_contains: '[x]' })).toEqual(newestFirst(G));
    expect(ids({ filename_contains: 'RÉSUMÉ' })).toEqual(newestFirst(F));
    expect(ids({ filename_contains: 'kelvin' })).toEqual(newestFirst(KELVIN)); // U+212A folds to `k`
    expect(ids({ filename_contains: 'taxi' })).toEqual(newestFirst(TAXI)); // U+0130 folds to `i` + a dot
  });

  it('source, project, workflow and node (node_id and the workflow_block_id alias)', () => {
    expect(ids({ source: 'workflow' })).toEqual(newestFirst(C, E));
    expect(ids({ source: 'project' })).toEqual(newestFirst(D));
    expect(ids({ source: 'api' })).toEqual(newestFirst(A, B, F, G, K, KELVIN, TAXI, LONG, H, I));
    expect(ids({ project_id: 'proj_1' })).toEqual(newestFirst(C, D));
    expect(ids({ workflow_id: 'wf_2' })).toEqual(newestFirst(E));
    expect(ids({ workflow_node_id: 'n2' })).toEqual(newestFirst(E));
    expect(ids({ workflow_block_id: 'n1' })).toEqual(newestFirst(C));
    expect(ids({ model: 'm2' })).toEqual(newestFirst(D));
  });

  it('dates are UTC days, inclusive: 23:59:59 is in the day, 00:00:00 next day is not', () => {
    expect(ids({ to_date: '2026-10-25', from_date: '2026-10-25' })).toEqual([H.id]);
    expect(ids({ from_date: '2026-10-26' })).toEqual([I.id]);
    expect(ids({ to_date: '2026-10-25' })).not.toContain(I.id);
    expect(ids({ from_date: '2026-10-26', to_date: '2026-10-25' })).toEqual([]); // reversed: empty, no error
  });
});

describe('paging', () => {
  it('before/after name positions; has_more looks in the direction of travel', () => {
    const order = newestFirst(...ALL);
    const first = queryJobs(tmp.reader, params({ limit: '3' }));
    expect(first.data.map((j) => j.id)).toEqual(order.slice(0, 3));
    expect(first.has_more).toBe(true);
    const next = queryJobs(tmp.reader, params({ limit: '3', after: first.last_id as string }));
    expect(next.data.map((j) => j.id)).toEqual(order.slice(3, 6));
    const back = queryJobs(tmp.reader, params({ limit: '2', before: next.first_id as string }));
    expect(back.data.map((j) => j.id)).toEqual(order.slice(1, 3)); // still newest first
    expect(back.has_more).toBe(true);
    const start = queryJobs(tmp.reader, params({ limit: '5', before: order[2] as string }));
    expect(start.data.map((j) => j.id)).toEqual(order.slice(0, 2));
    expect(start.has_more).toBe(false);
    const end = queryJobs(tmp.reader, params({ limit: '100', after: order[order.length - 2] as string }));
    expect(end).toMatchObject({ first_id: order[order.length - 1], has_more: false });
  });

  it('a cursor need not match the filters; an unknown one is invalid_cursor', () => {
    // G is not from acme, yet `after=G` still means "older than G".
    const page = queryJobs(tmp.reader, params({ metadata: '{"customer":"acme"}', after: G.id }));
    expect(page.data.map((j) => j.id)).toEqual(newestFirst(A, B));
    expect(() => queryJobs(tmp.reader, params({ after: 'job_unknown' }))).toThrow(InvalidCursorError);
    let caught: unknown;
    try {
      queryJobs(tmp.reader, params({ before: 'job_unknown' }));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidCursorError);
    expect((caught as InvalidCursorError).body.detail).toMatchObject({
      code: 'invalid_cursor',
      details: { param: 'before', cursor: 'job_unknown' },
    });
  });

  it('payloads only when asked', () => {
    const plain = queryJobs(tmp.reader, params({ id: A.id }));
    expect(plain.data[0]).toMatchObject({ id: A.id, request: null, response: null, metadata: A.metadata });
    const full = queryJobs(
      tmp.reader,
      params({ id: A.id, include_request: 'true', include_response: 'true', limit: '5' }),
    );
    expect(full.data[0]?.request).toEqual(A.request);
    expect(full.data[0]?.response).toEqual(A.response);
  });
});
