/**
 * Breaker for issue #24: a `filename_regex` with no literal to look up must be "no slower than today" and answer
 * as SQLite does. The superset ARE that whereSql.ts sends for it (pgRegex.ts) can cost PostgreSQL's regex engine
 * milliseconds per name where RE2 costs microseconds: bounded repetitions of classes (each `{0,255}` becomes 255
 * NFA copies; MAX_SIZE counts atoms, not the cost of matching them). Here 3,000 jobs and patterns RE2 answers in
 * ~10–60 ms, where PostgreSQL runs past a 2 s statement timeout (57014, a 500 from the API) instead of answering.
 * Measured on 20k names: `(?:[a-z]{0,3}[0-9]{0,3}){1,200}` 27 s in PostgreSQL vs 60 ms in RE2JS; at 1M jobs the
 * default 30 s timeout is hit by smaller ones (`(?:[a-z]?[0-9]?){1,100}`: ~110 µs a name, ~2 min for 1M).
 */
import { describe, expect, it } from 'vitest';
import { applyPage, type Mirror } from '../../src/mirror/index.ts';
import { applyPagePg } from '../../src/mirror/pg/applyPagePg.ts';
import type { PgMirror } from '../../src/mirror/pg/openPgMirror.ts';
import { queryJobsPg } from '../../src/mirror/pg/queryJobsPg.ts';
import { queryJobs } from '../../src/mirror/queryJobs.ts';
import type { NormalizedListParams } from '../../src/retab/params.ts';
import { makeJob } from '../query/helpers.ts';
import { sideBySide } from './sideBySide.ts';

let pgm: PgMirror;
let lite: Mirror;

sideBySide(async (m) => {
  ({ pgm, lite } = m);
  const jobs = Array.from({ length: 3000 }, (_, g) =>
    makeJob({ filenames: [`scan 2026-10-03 (2)_${g}_invoice_abcabcabc.pdf`] }),
  );
  for (let i = 0; i < jobs.length; i += 500) {
    const page = jobs.slice(i, i + 500);
    applyPage(lite, page, { observedAt: Date.now() });
    await applyPagePg(pgm.pool, page, { observedAt: Date.now() });
  }
});

const CLASS = '[a-z0-9 ._()-]{0,255}';

describe('filename_regex without literals, PostgreSQL vs SQLite', () => {
  it.each([
    // 31 characters: RE2 ~3 µs a name, PostgreSQL's regex ~1.4–2.4 ms a name.
    '(?:[a-z]{0,3}[0-9]{0,3}){1,200}',
    // `{0,255}` eleven times, then `q`: no trigram for pg_trgm to look up either.
    `${CLASS.repeat(11)}q`,
  ])(
    'answers %s as SQLite does, within the statement timeout',
    async (filename_regex) => {
      const params: NormalizedListParams = {
        limit: 20,
        order: 'desc',
        include_request: false,
        include_response: false,
        filename_regex,
      };
      const t = Date.now();
      const want = queryJobs(lite, params);
      const liteMs = Date.now() - t;
      expect(want.data).toEqual([]);
      expect(liteMs).toBeLessThan(1000);
      // SQLite (RE2 over every name) answers in well under a second; PostgreSQL gets twice that.
      const got = await queryJobsPg(pgm.pool, params, { statementTimeoutMs: 2000 });
      expect(got).toEqual(want);
    },
    60_000,
  );
});
