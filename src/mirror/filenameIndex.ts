/**
 * The SQLite side of the filename index (migration 0002): an FTS5 trigram table with one row per job (rowid =
 * `jobs.seq`), kept in step with `job_files`, and the lookups that turn a filename filter into candidates.
 *
 * Writing: indexing a job costs ~10 µs when done in batches of a thousand, half that in one large batch,
 * and twice that one page at a time (each commit adds a segment that FTS5 must merge later). So applyPage
 * indexes new jobs in batches (`catchUpFilenameIndex`), and a backfill's pages index nothing: the next
 * other page (head, active, hydrate) indexes what they wrote in large batches. Jobs past `indexed_through`
 * are tested directly by every query, or, when there are more than a few batches of them (a backfill
 * running), the query uses no index. Already indexed jobs whose files change are re-indexed at once by
 * triggers.
 *
 * Reading: the literals a filter requires (filenameLiterals.ts) become an FTS5 query over a few of their
 * trigrams — those that, together, the fewest names hold. That comes from a sample of the stored names,
 * taken once per connection and again when the mirror has grown by a quarter; a trigram in most names
 * narrows nothing but still costs a walk over its posting list. Candidates are then tested exactly, as
 * without the index.
 */
import type Database from 'better-sqlite3';
import {
  and,
  BOUNDARY,
  containsQuery,
  indexedText,
  type LiteralQuery,
  regexQuery,
} from './filenameLiterals.ts';
import { foldChar } from './regexSyntax.ts';

/** New jobs indexed per batch: fewer, larger batches cost less per job but leave more for queries to test directly. */
export const FILENAME_INDEX_BATCH = 1000;

const STATE = 'SELECT indexed_through AS n FROM filename_index_state WHERE id = 1';
const TOP = 'SELECT max(seq) AS n FROM jobs';
const INDEX_RANGE = `INSERT INTO job_filenames_fts (rowid, names)
  SELECT job_seq, char(10) || replace(group_concat(filename, char(10)), char(304), 'i') || char(10) FROM job_files
  WHERE job_seq > ? AND job_seq <= ? GROUP BY job_seq`;
const SET_STATE = 'UPDATE filename_index_state SET indexed_through = ? WHERE id = 1';

type Prepare = (sql: string) => Database.Statement;

/** Jobs indexed by one call at most, so one transaction never holds the write lock for long (~0.5 s). */
const MAX_CATCH_UP = 50_000;

/**
 * Index the jobs past `indexed_through` when there are at least `minBatch` of them (0: always), at most
 * MAX_CATCH_UP. Runs inside the caller's transaction. Returns how many jobs' seqs it covered.
 */
export function catchUpFilenameIndex(prepare: Prepare, minBatch = FILENAME_INDEX_BATCH): number {
  const through = (prepare(STATE).get() as { n: number } | undefined)?.n ?? 0;
  const top = Math.min((prepare(TOP).get() as { n: number | null }).n ?? 0, through + MAX_CATCH_UP);
  if (top - through < Math.max(1, minBatch)) return 0;
  prepare(INDEX_RANGE).run(through, top);
  prepare(SET_STATE).run(top);
  return top - through;
}

/** The last `seq` in the index: jobs after it are tested directly. */
export function indexedThrough(prepare: Prepare): number {
  return (prepare(STATE).get() as { n: number } | undefined)?.n ?? 0;
}

// ---- trigram frequencies, sampled

/** Names sampled for trigram frequencies. */
const SAMPLE = 2000;
/** A literal in more than this share of names is left out of a lookup (it narrows little and costs a long walk). */
const COMMON = 0.25;
/** Trigrams kept per literal at most: a few already narrow the candidates as far as the rest would. */
const PER_LITERAL = 3;

interface Stats {
  jobs: number;
  samples: number;
  /** For each trigram, the sampled names holding it (ascending indexes). */
  postings: Map<string, number[]>;
}
const statsCache = new WeakMap<Database.Database, Stats>();

/** The distinct index trigrams of a name, as the index folds it (characters it cannot vouch for break them). */
function trigramsOf(name: string): Set<string> {
  const chars = Array.from(indexedText([name]), (c) => (c === BOUNDARY ? c : foldChar(c)));
  const out = new Set<string>();
  for (let i = 0; i + 2 < chars.length; i++) {
    const [a, b, c] = [chars[i], chars[i + 1], chars[i + 2]];
    if (a != null && b != null && c != null) out.add(a + b + c);
  }
  return out;
}

function sampleStats(sqlite: Database.Database, prepare: Prepare, jobs: number): Stats {
  const top = (prepare('SELECT max(rowid) AS n FROM job_files').get() as { n: number | null }).n ?? 0;
  const at = prepare('SELECT filename FROM job_files WHERE rowid >= ? ORDER BY rowid LIMIT 1');
  const postings = new Map<string, number[]>();
  let samples = 0;
  const n = Math.min(SAMPLE, top);
  for (let k = 0; k < n; k++) {
    const row = at.get(1 + Math.floor((k * top) / n)) as { filename: string } | undefined;
    if (!row) continue;
    for (const t of trigramsOf(row.filename)) {
      const list = postings.get(t);
      if (list) list.push(samples);
      else postings.set(t, [samples]);
    }
    samples++;
  }
  const stats = { jobs, samples, postings };
  statsCache.set(sqlite, stats);
  return stats;
}

function stats(sqlite: Database.Database, prepare: Prepare, jobs: number): Stats {
  const s = statsCache.get(sqlite);
  if (s && jobs <= s.jobs * 1.25 && jobs >= s.jobs * 0.8 && (s.samples >= SAMPLE || jobs === s.jobs))
    return s;
  return sampleStats(sqlite, prepare, jobs);
}

function intersect(a: number[], b: number[]): number[] {
  const out: number[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) {
      out.push(a[i] as number);
      i++;
      j++;
    } else if ((a[i] as number) < (b[j] as number)) i++;
    else j++;
  }
  return out;
}

/**
 * The trigrams to look a literal up by: greedily, the one that leaves the fewest sampled names holding all
 * chosen so far, while that still narrows them. Trigrams of one word tend to come together (`med`, `edi`),
 * so the rarest ones alone are a poor choice; the sample says which pair actually separates.
 */
function chooseTrigrams(s: Stats, lit: string): { tris: string[]; share: number } {
  const all = [...new Set(Array.from({ length: lit.length - 2 }, (_, i) => lit.slice(i, i + 3)))];
  const postings = (t: string) => s.postings.get(t) ?? [];
  const chosen: string[] = [];
  let held: number[] | null = null;
  while (chosen.length < PER_LITERAL) {
    let best: { t: string; held: number[] } | undefined;
    for (const t of all) {
      if (chosen.includes(t)) continue;
      const h = held === null ? postings(t) : intersect(held, postings(t));
      if (!best || h.length < best.held.length) best = { t, held: h };
    }
    if (!best || (held !== null && best.held.length >= held.length)) break;
    chosen.push(best.t);
    held = best.held;
    if (held.length === 0) {
      // Past what the sample can tell apart: add the individually rarest of the rest (cheap to look up).
      const rest = all.filter((t) => !chosen.includes(t));
      rest.sort((a, b) => postings(a).length - postings(b).length);
      chosen.push(...rest.slice(0, PER_LITERAL - chosen.length));
      break;
    }
  }
  return { tris: chosen, share: ((held?.length ?? s.samples) + 0.5) / Math.max(1, s.samples) };
}

// ---- from a filter to an FTS5 query

/** An FTS5 lookup for a filename filter, and the share of jobs it is estimated to admit (an upper bound). */
export interface TrigramLookup {
  match: string;
  share: number;
}

const quote = (t: string) => `"${t.replaceAll('"', '""')}"`;

const queryCache = new Map<string, LiteralQuery>();

/** The literal query of the filename filters in `f` (both must hold when both are given), cached per filter. */
export function filenameQuery(f: { filename_regex?: string; filename_contains?: string }): LiteralQuery {
  const qs: LiteralQuery[] = [];
  for (const [kind, value, build] of [
    ['r', f.filename_regex, regexQuery],
    ['c', f.filename_contains, containsQuery],
  ] as const) {
    if (value === undefined) continue;
    const key = `${kind}:${value}`;
    let q = queryCache.get(key);
    if (!q) {
      if (queryCache.size >= 256) queryCache.delete(queryCache.keys().next().value as string);
      q = build(value);
      queryCache.set(key, q);
    }
    qs.push(q);
  }
  return and(...qs);
}

/**
 * The FTS5 query for `q` over its rarest trigrams, or null when no part of it narrows the candidates (the
 * caller then uses no index).
 */
export function trigramLookup(
  sqlite: Database.Database,
  prepare: Prepare,
  q: LiteralQuery,
  jobs: number,
): TrigramLookup | null {
  const s = stats(sqlite, prepare, jobs);
  const build = (x: LiteralQuery): TrigramLookup | null => {
    switch (x.op) {
      case 'all':
      case 'none':
        // `none` (nothing can match) is rare enough not to deserve a plan of its own.
        return null;
      case 'lit': {
        const { tris, share } = chooseTrigrams(s, x.lit);
        // A literal in most names narrows nothing: leave it to the exact test.
        if (tris.length === 0 || share > COMMON) return null;
        return { match: tris.map(quote).join(' AND '), share };
      }
      case 'and': {
        // The rarest few parts narrow as far as all of them would; each more costs a posting-list walk.
        const parts = x.args
          .map(build)
          .filter((p): p is TrigramLookup => p !== null)
          .sort((a, b) => a.share - b.share)
          .slice(0, PER_LITERAL);
        if (parts.length === 0) return null;
        return {
          match: parts.map((p) => `(${p.match})`).join(' AND '),
          share: Math.min(...parts.map((p) => p.share)),
        };
      }
      case 'or': {
        const parts = x.args.map(build);
        if (parts.some((p) => p === null)) return null;
        const ok = parts as TrigramLookup[];
        return {
          match: ok.map((p) => `(${p.match})`).join(' OR '),
          share: Math.min(
            1,
            ok.reduce((sum, p) => sum + p.share, 0),
          ),
        };
      }
    }
  };
  return build(q);
}

/** Candidates of a lookup, counted up to `cap` (the index part only; add the unindexed tail yourself). */
export function countCandidates(prepare: Prepare, lookup: TrigramLookup, cap: number): number {
  return (
    prepare(
      'SELECT count(*) AS n FROM (SELECT rowid FROM job_filenames_fts WHERE job_filenames_fts MATCH ? LIMIT ?)',
    ).get(lookup.match, cap) as { n: number }
  ).n;
}

/** `FROM` text of the candidates: the index's matches and every job past it; args: match, indexed_through. */
export const CANDIDATES_FROM = `(SELECT rowid AS job_seq FROM job_filenames_fts WHERE job_filenames_fts MATCH ?
  UNION ALL SELECT seq FROM jobs WHERE seq > ?) d CROSS JOIN jobs j ON j.seq = d.job_seq`;
