/**
 * The filename index changes how `filename_contains` and `filename_regex` find their jobs, never what they
 * answer: random filenames (Unicode, `%`, `_`, quotes, the characters whose case folding is odd) and random
 * patterns and needles are answered by the mirror exactly as a brute-force pass with the contract's matchers
 * answers them — with jobs indexed in batches, jobs not yet indexed, requests known only later, deleted jobs.
 * SQLite only (issue #21): this is SQLite's own index, kept in batches by the mirror. PostgreSQL's (pg_trgm) is
 * kept by the server; its answers are held to SQLite's in test/pg/queryJobsPg.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPage } from '../../src/mirror/applyPage.ts';
import { FILENAME_INDEX_BATCH } from '../../src/mirror/filenameIndex.ts';
import { iterateJobs, queryJobs } from '../../src/mirror/queryJobs.ts';
import { statsJobs } from '../../src/mirror/statsJobs.ts';
import {
  compareListingOrder,
  filenameContainsMatcher,
  filenameRegexMatcher,
  jobFilenames,
} from '../../src/retab/jobFields.ts';
import { type NormalizedListParams, parseListQuery } from '../../src/retab/params.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { load, makeJob, prng, type TempMirror, tempMirror } from './helpers.ts';

const STEMS = ['invoice', 'Scan 2026-10-03', 'IMG', 'contrat_signé', 'reçu', 'KELVIN', 'taxi', 'Straße'];
const ODD = ['%', '_', '"', "'", ' (2)', '\u212a', '\u017f', '\u0130', 'É', '日本', '[x]', '\\', '.'];
const EXTS = ['pdf', 'PDF', 'png', 'docx', 'txt', 'jpg'];

let rand = prng(1924);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

function randomName(): string {
  const stem = pick(STEMS);
  const odd = rand() < 0.3 ? pick(ODD) : '';
  const num = String(Math.floor(rand() * 100_000)).padStart(5, '0');
  const base = rand() < 0.5 ? `${stem}${odd}_${num}` : `${odd}${stem.toUpperCase()}_${num}`;
  return `${base}.${pick(EXTS)}`;
}

let tmp: TempMirror;
let jobs: Job[];
const deleted = new Set<string>();

beforeAll(() => {
  tmp = tempMirror();
  // 1,500 jobs: the first batch is indexed when the 1,000th arrives, the rest is the unindexed tail.
  const n = FILENAME_INDEX_BATCH + 500;
  jobs = Array.from({ length: n }, () =>
    makeJob({ filenames: Array.from({ length: rand() < 0.2 ? 2 : 1 }, randomName) }),
  );
  // A tenth of them are first seen without their request (a lightweight listing), then hydrated after the
  // batch holding them was indexed: their names reach the index through the triggers.
  const late = new Set(jobs.filter((_, i) => i % 10 === 3).map((j) => j.id));
  load(
    tmp.mirror,
    jobs.map((j) => (late.has(j.id) ? { ...j, request: null } : j)),
    100,
  );
  applyPage(
    tmp.mirror,
    jobs.filter((j) => late.has(j.id)),
    { observedAt: Date.now() + 1000 },
  );
  // Deleted jobs leave the index with their files (the foreign key cascades, the trigger follows).
  for (const j of jobs.filter((_, i) => i % 97 === 5)) {
    tmp.mirror.sqlite.prepare('DELETE FROM jobs WHERE id = ?').run(j.id);
    deleted.add(j.id);
  }
});
afterAll(() => tmp?.cleanup());

function params(query: Record<string, string>): NormalizedListParams {
  const parsed = parseListQuery(query);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.body));
  return parsed.params;
}

/** The page a brute-force pass over the jobs gives, with the contract's own matchers. */
function expected(p: NormalizedListParams): { ids: string[]; hasMore: boolean } {
  const re = p.filename_regex !== undefined ? filenameRegexMatcher(p.filename_regex) : undefined;
  const has = p.filename_contains !== undefined ? filenameContainsMatcher(p.filename_contains) : undefined;
  const all = jobs
    .filter((j) => !deleted.has(j.id))
    .filter((j) => {
      const names = jobFilenames(j.request);
      return (!re || names.some(re)) && (!has || names.some(has));
    })
    .sort((a, b) => compareListingOrder(a, b, p.order));
  return { ids: all.slice(0, p.limit).map((j) => j.id), hasMore: all.length > p.limit };
}

function escapeRe(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** Characters whose case folding is least regular. */
const FOLDS = ['\u212a', '\u017f', '\u0130', 'É', 'ß', 'ç'];

/** A needle around one of the FOLDS characters of a name that has one. */
function oddNeedle(): string {
  const names = jobs.flatMap((j) => jobFilenames(j.request)).filter((n) => FOLDS.some((o) => n.includes(o)));
  const name = pick(names);
  const chars = Array.from(name);
  const at = chars.findIndex((c) => FOLDS.includes(c));
  const from = Math.max(0, at - 1 - Math.floor(rand() * 4));
  const needle = chars.slice(from, at + 1 + Math.floor(rand() * 3)).join('');
  return rand() < 0.5 ? needle.toLowerCase() : needle.toUpperCase();
}

function randomFilter(): Record<string, string> {
  if (rand() < 0.15)
    return rand() < 0.7
      ? { filename_contains: oddNeedle() }
      : { filename_regex: `.*${escapeRe(oddNeedle())}.*` };
  const name = pick(jobFilenames(pick(jobs).request));
  const cut = (len: number) => {
    const chars = Array.from(name);
    const start = Math.floor(rand() * Math.max(1, chars.length - len));
    return chars.slice(start, start + len).join('');
  };
  const flip = (s: string) => (rand() < 0.5 ? s.toUpperCase() : s.toLowerCase());
  const k = Math.floor(rand() * 8);
  if (k === 0) return { filename_contains: flip(cut(2 + Math.floor(rand() * 10))) };
  if (k === 1) return { filename_contains: `${pick(ODD)}${cut(3)}` };
  if (k === 2) return { filename_regex: `.*${escapeRe(cut(3 + Math.floor(rand() * 6)))}.*` };
  if (k === 3) return { filename_regex: `.*_${cut(5).replace(/\D/g, '\\d')}\\.(pdf|png|jpg)` };
  if (k === 4) return { filename_regex: `${escapeRe(flip(cut(4)))}.*` };
  if (k === 5) return { filename_regex: `(?i)${pick(STEMS)}[^.]*\\.${pick(EXTS)}` };
  if (k === 6) return { filename_regex: cut(6) }; // raw text: may not compile, may be a pattern
  return { filename_contains: cut(4), filename_regex: `.*${pick(['\\d{3}', '_', 'é', 'ß'])}.*` };
}

describe('filename filters through the index answer as a brute-force pass does', () => {
  it('400 random filters, pages and orders', () => {
    rand = prng(77);
    const mismatches: unknown[] = [];
    let nonEmpty = 0;
    for (let i = 0; i < 400; i++) {
      const q = {
        ...randomFilter(),
        limit: String(1 + Math.floor(rand() * 40)),
        ...(rand() < 0.3 ? { order: 'asc' } : {}),
      };
      const p = params(q);
      const want = expected(p);
      if (want.ids.length > 0) nonEmpty++;
      // Indexed and unindexed plans, each through the direct and the walking paths.
      for (const [walkWindow, useFilenameIndex] of [
        [1000, true],
        [3, true],
        [1000, false],
      ] as const) {
        const page = queryJobs(tmp.reader, p, { walkWindow, useFilenameIndex });
        const got = { ids: page.data.map((j) => j.id), hasMore: page.has_more };
        if (JSON.stringify(got) !== JSON.stringify(want))
          mismatches.push({ q, walkWindow, useFilenameIndex, got, want });
      }
    }
    expect(mismatches).toEqual([]);
    expect(nonEmpty).toBeGreaterThan(200);
  });

  it('the rare filters are answered from the index: emptied, it loses their indexed jobs', () => {
    const indexed = jobs.slice(0, FILENAME_INDEX_BATCH).find((j, i) => i % 10 !== 3 && !deleted.has(j.id));
    const name = jobFilenames(indexed?.request)[0] as string;
    const digits = /_(\d{5})\./.exec(name)?.[1] as string;
    const p = params({ filename_regex: `.*_${digits}\\.\\w+`, limit: '50' });
    expect(queryJobs(tmp.reader, p).data.map((j) => j.id)).toEqual(expected(p).ids);
    expect(expected(p).ids).toContain(indexed?.id);
    const other = tempMirror();
    try {
      load(other.mirror, jobs, 100);
      other.mirror.sqlite.exec('DELETE FROM job_filenames_fts');
      const ids = queryJobs(other.reader, p).data.map((j) => j.id);
      expect(ids).not.toContain(indexed?.id);
    } finally {
      other.cleanup();
    }
  });

  it("a backfill's pages are indexed by the next other page; meanwhile answers stay exact", () => {
    const other = tempMirror();
    try {
      const through = () =>
        other.mirror.sqlite.prepare('SELECT indexed_through FROM filename_index_state').pluck().get();
      const many = Array.from({ length: 6 * FILENAME_INDEX_BATCH }, () =>
        makeJob({ filenames: [randomName()] }),
      );
      for (let i = 0; i < many.length; i += 500) {
        applyPage(other.mirror, many.slice(i, i + 500), { observedAt: Date.now(), backfill: true });
      }
      expect(through()).toBe(0);
      const name = jobFilenames(many[10]?.request)[0] as string;
      const p = params({ filename_contains: name.slice(-12), limit: '5' });
      const want = many
        .filter((j) => jobFilenames(j.request).some(filenameContainsMatcher(name.slice(-12))))
        .sort((a, b) => compareListingOrder(a, b, 'desc'))
        .map((j) => j.id);
      expect(queryJobs(other.reader, p).data.map((j) => j.id)).toEqual(want.slice(0, 5));
      applyPage(other.mirror, [makeJob({ filenames: ['late.pdf'] })], { observedAt: Date.now() });
      expect(through()).toBe(many.length + 1);
      expect(queryJobs(other.reader, p).data.map((j) => j.id)).toEqual(want.slice(0, 5));
    } finally {
      other.cleanup();
    }
  });

  it('every matching job (`jobs list --all`, export, stats): the same answers, a rare filter from the index', () => {
    rand = prng(2401);
    for (let i = 0; i < 30; i++) {
      const p = params({ ...randomFilter(), limit: '100' });
      const want = jobs
        .filter((j) => !deleted.has(j.id))
        .filter((j) => {
          const names = jobFilenames(j.request);
          const re = p.filename_regex !== undefined ? filenameRegexMatcher(p.filename_regex) : undefined;
          const has =
            p.filename_contains !== undefined ? filenameContainsMatcher(p.filename_contains) : undefined;
          return (!re || names.some(re)) && (!has || names.some(has));
        })
        .sort((a, b) => compareListingOrder(a, b, p.order))
        .map((j) => j.id);
      const got = [...iterateJobs(tmp.reader, { ...p, order: p.order })].map((j) => j.id);
      expect(got, JSON.stringify(p)).toEqual(want);
    }
    // Emptied, the index loses a rare filter's indexed job: the stream took its candidates from it.
    const indexed = jobs.slice(0, FILENAME_INDEX_BATCH).find((j, i) => i % 10 !== 3 && !deleted.has(j.id));
    const name = jobFilenames(indexed?.request)[0] as string;
    const digits = /_(\d{5})\./.exec(name)?.[1] as string;
    const p = params({ filename_regex: `.*_${digits}\\.\\w+` });
    const other = tempMirror();
    try {
      load(other.mirror, jobs, 100);
      const count = () => statsJobs(other.reader, { groupBy: 'status', filters: p }).totals.count;
      expect([...iterateJobs(other.reader, p)].map((j) => j.id)).toContain(indexed?.id);
      expect(count()).toBe(expected({ ...p, limit: 100 }).ids.length);
      other.mirror.sqlite.exec('DELETE FROM job_filenames_fts');
      expect([...iterateJobs(other.reader, p)].map((j) => j.id)).not.toContain(indexed?.id);
      expect(count()).toBe(expected({ ...p, limit: 100 }).ids.length - 1);
    } finally {
      other.cleanup();
    }
  });
});
