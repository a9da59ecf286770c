/**
 * `queryJobsPg` answers exactly as SQLite's `queryJobs` on the same mirror contents: every filter (metadata,
 * document types, dates, filename filters with RE2 as the judge and Unicode folding), both orders, limits,
 * and cursors walked both ways. The database uses an ICU en-US locale, so nothing may lean on the locale.
 */
import { describe, expect, it } from 'vitest';
import { applyPage, type Mirror } from '../../src/mirror/index.ts';
import { applyPagePg } from '../../src/mirror/pg/applyPagePg.ts';
import type { PgMirror } from '../../src/mirror/pg/openPgMirror.ts';
import { getJobPg, iterateJobsPg, queryJobsPg } from '../../src/mirror/pg/queryJobsPg.ts';
import { foldedFilename } from '../../src/mirror/pg/schema.ts';
import { forgetSampleNames, sampleNames } from '../../src/mirror/pg/trigramLookup.ts';
import { getJob, iterateJobs, queryJobs } from '../../src/mirror/queryJobs.ts';
import { utcDay } from '../../src/retab/jobFields.ts';
import type { NormalizedListParams } from '../../src/retab/params.ts';
import { BASE_CREATED } from '../mirror/factory.ts';
import { scenario } from './scenario.ts';
import { sideBySide } from './sideBySide.ts';

let pgm: PgMirror;
let lite: Mirror;

sideBySide(async (m) => {
  ({ pgm, lite } = m);
  for (const seed of [21, 22, 23]) {
    for (const p of scenario(seed, 40, 25, 120)) {
      applyPage(lite, p.jobs, p.opts);
      await applyPagePg(pgm.pool, p.jobs, p.opts);
    }
  }
});
const base: NormalizedListParams = {
  limit: 20,
  order: 'desc',
  include_request: false,
  include_response: false,
};
const day = utcDay(BASE_CREATED);

const FILTERS: Array<Partial<NormalizedListParams>> = [
  {},
  { status: 'completed' },
  { status: 'queued', endpoint: '/v1/documents/extract' },
  { metadata: { customer: 'acme' } },
  { metadata: { batch: 'b1', customer: 'globex' } },
  { metadata: { k1: "o'brien" } },
  { document_type: ['pdf'] },
  { document_type: ['png', 'csv'] },
  { from_date: day, to_date: day },
  { model: 'm3' },
  { source: 'project' },
  ...[
    'invoice',
    'INV',
    'pdf',
    '.PDF',
    'stan',
    'i',
    'k',
    'kelvin_k',
    'KELVIN_\u212A',
    'ſ',
    'strange',
    'İst',
    // ASCII needles decided in SQL, whose folded names (ſ -> s, İ -> i) admit more than the contract does.
    'ISTANBUL',
    'strange 1',
    '_\u212Apdf',
    'rapor.p',
    '1_',
    '%',
    '_b-',
    'zzz',
    '100%',
  ].map((filename_contains) => ({ filename_contains })),
  ...[
    '.*\\.pdf',
    '1.*',
    '\\d+_invoice-001\\.pdf',
    'scan.*',
    'DATA\\.CSV',
    '.*_k.*',
    '.*_kelvin_k\\.pdf',
    '.*strange.*',
    '[',
    'a(b',
    '.*',
    '\\d+_contract final\\.docx',
    '.*\\bfinal\\b.*',
    '1\\d_.*',
    '.*%.*',
    '.*_.*_.*',
  ].map((filename_regex) => ({ filename_regex })),
  { filename_regex: '.*\\.pdf', filename_contains: 'stan' },
  { filename_regex: '\\d+_scan.*', metadata: { customer: 'acme' }, status: 'completed' },
  { filename_contains: 'data', document_type: ['csv'] },
];

describe('queryJobsPg answers as queryJobs', () => {
  it('first pages, every filter, both orders, several limits', async () => {
    let nonEmpty = 0;
    for (const f of FILTERS) {
      for (const order of ['desc', 'asc'] as const) {
        for (const limit of [1, 7, 100]) {
          const params = { ...base, ...f, order, limit, include_request: limit === 7 };
          const want = queryJobs(lite, params);
          // Listing walks of 3 and 40 jobs: the first walk, its extensions and the planner's part all run.
          for (const firstWalk of [3, 40]) {
            const got = await queryJobsPg(pgm.pool, params, { batch: 16, firstWalk });
            expect(got, `${JSON.stringify(params)} firstWalk ${firstWalk}`).toEqual(want);
          }
          if (want.data.length > 0) nonEmpty++;
        }
      }
    }
    expect(nonEmpty).toBeGreaterThan(FILTERS.length * 3);
  });

  it("with the planner's statistics: the trigram index looks up only the rare chunks, same answers", async () => {
    await pgm.pool.query('ANALYZE job_files');
    forgetSampleNames(pgm.pool);
    const c = await pgm.pool.connect();
    try {
      expect((await sampleNames(pgm.pool, c))?.length).toBeGreaterThan(30);
    } finally {
      c.release();
    }
    for (const f of FILTERS.filter(
      (x) => x.filename_contains !== undefined || x.filename_regex !== undefined,
    )) {
      for (const order of ['desc', 'asc'] as const) {
        for (const firstWalk of [3, 300]) {
          const params = { ...base, ...f, order, limit: 7 };
          const got = await queryJobsPg(pgm.pool, params, { batch: 16, firstWalk });
          expect(got, `${JSON.stringify(params)} firstWalk ${firstWalk}`).toEqual(queryJobs(lite, params));
        }
      }
    }
  });

  it('cursors walked forward to the end and back', async () => {
    for (const f of [
      {},
      { filename_contains: 'pdf' },
      { metadata: { customer: 'acme' } },
      { filename_regex: '1.*' },
    ]) {
      for (const order of ['desc', 'asc'] as const) {
        let params: NormalizedListParams = { ...base, ...f, order, limit: 13 };
        const firsts: string[] = [];
        for (let i = 0; i < 40; i++) {
          const want = queryJobs(lite, params);
          expect(
            await queryJobsPg(pgm.pool, params, { batch: 8, firstWalk: 4 }),
            JSON.stringify(params),
          ).toEqual(want);
          if (want.first_id) firsts.push(want.first_id);
          if (!want.has_more || !want.last_id) break;
          params = { ...base, ...f, order, limit: 13, after: want.last_id };
        }
        expect(firsts.length).toBeGreaterThan(1);
        const back = { ...base, ...f, order, limit: 5, before: firsts[firsts.length - 1] as string };
        expect(await queryJobsPg(pgm.pool, back)).toEqual(queryJobs(lite, back));
      }
    }
  });

  it('the literal conditions are the indexed expression: the trigram index can answer them', async () => {
    const c = await pgm.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL enable_seqscan = off');
      const plan = await c.query(
        `EXPLAIN SELECT job_seq FROM job_files f WHERE ${foldedFilename('f.filename')} LIKE '%voice-0%'`,
      );
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(
        /Bitmap Index Scan on job_files_filename_trgm_idx/,
      );
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });

  it('every match streamed (exports), and one job by id', async () => {
    for (const params of [
      {},
      { order: 'asc' as const, filename_regex: '.*\\.pdf', include_request: true },
      { metadata: { customer: 'acme' }, filename_contains: 'a' },
      { status: 'completed', order: 'asc' as const },
    ]) {
      const want = [...iterateJobs(lite, params)];
      const got = [];
      for await (const j of iterateJobsPg(pgm.pool, params, { batch: 17 })) got.push(j);
      expect(got, JSON.stringify(params)).toEqual(want);
      const after = want[5]?.id;
      if (after) {
        const rest = [];
        for await (const j of iterateJobsPg(pgm.pool, { ...params, after })) rest.push(j);
        expect(rest).toEqual([...iterateJobs(lite, { ...params, after })]);
      }
    }
    const id = [...iterateJobs(lite, {})][7]?.id as string;
    for (const inc of [{}, { include_request: true, include_response: true }])
      expect(await getJobPg(pgm.pool, id, inc)).toEqual(getJob(lite, id, inc));
    expect(await getJobPg(pgm.pool, 'job_nope')).toBeUndefined();
  });

  it('an unknown cursor is the same 400', async () => {
    const params = { ...base, after: 'job_nope' };
    expect(() => queryJobs(lite, params)).toThrow(/not the id of an existing job/);
    await expect(queryJobsPg(pgm.pool, params)).rejects.toThrow(/not the id of an existing job/);
  });

  it('a user query runs under a statement timeout', async () => {
    // Another session holds the jobs table: the query waits for its lock, and the wait counts.
    const holder = await pgm.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      await expect(queryJobsPg(pgm.pool, base, { statementTimeoutMs: 300 })).rejects.toThrow(
        /canceling statement due to statement timeout/,
      );
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });
});
