/**
 * SQL for the list filters over `jobs j`, and the choice of which table drives the query.
 *
 * Every filter is a bound parameter. Indexed columns are equalities; metadata, document types and
 * filenames live in side tables and are either probed per job (`EXISTS`, cheap when matches are common:
 * walking the listing order finds a page fast) or drive the query (`<side rows> CROSS JOIN jobs`, cheap
 * when matches are rare: no walk over non-matching jobs). `choosePlan` decides from capped index counts,
 * so both rare and common values stay close to the best hand-written query.
 */
import type Database from 'better-sqlite3';
import type { NormalizedListParams } from '../retab/index.ts';
import { dayBounds, filenameContainsMatcher, filenameRegexMatcher } from '../retab/index.ts';
import { CANDIDATES_FROM } from './filenameIndex.ts';
import { prepared } from './prepared.ts';

// ---- SQL functions: RE2 matching and Unicode-aware substring, with compiled matchers cached per pattern.

const MATCHER_CACHE_SIZE = 64;
const regexCache = new Map<string, (name: string) => boolean>();
const containsCache = new Map<string, (name: string) => boolean>();

function cached(
  cache: Map<string, (name: string) => boolean>,
  key: string,
  build: (k: string) => (name: string) => boolean,
): (name: string) => boolean {
  let m = cache.get(key);
  if (!m) {
    if (cache.size >= MATCHER_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    m = build(key);
    cache.set(key, m);
  }
  return m;
}

const registered = new WeakSet<Database.Database>();

/** Register `re2_match(pattern, name)` and `ci_contains(needle, name)` (1/0) on a connection, once. */
export function registerQueryFunctions(sqlite: Database.Database): void {
  if (registered.has(sqlite)) return;
  const matchers = [
    ['re2_match', regexCache, filenameRegexMatcher],
    ['ci_contains', containsCache, filenameContainsMatcher],
  ] as const;
  for (const [fn, cache, compile] of matchers)
    sqlite.function(fn, { deterministic: true }, (pattern, name) =>
      typeof pattern === 'string' && typeof name === 'string' && cached(cache, pattern, compile)(name)
        ? 1
        : 0,
    );
  registered.add(sqlite);
}

/**
 * A query's prepared statement, from the mirror's one statement cache (prepared.ts), on a connection that
 * has the query functions (a query's text depends only on which filters are set).
 */
export function prepareCached(sqlite: Database.Database, text: string): Database.Statement {
  registerQueryFunctions(sqlite);
  return prepared(sqlite, text);
}

/** The filter part of list params (stats and exports reuse it). */
export type JobFilters = Partial<
  Omit<NormalizedListParams, 'before' | 'after' | 'limit' | 'order' | 'include_request' | 'include_response'>
>;

/**
 * Which rows drive the query: the jobs in listing order, the matches of one side-table filter, or the
 * filename index's candidates (`match`: an FTS5 query; jobs past `through` are not in the index yet).
 */
export type Driver =
  | { kind: 'scan' }
  | { kind: 'metadata'; key: string }
  | { kind: 'document_type' }
  | { kind: 'files' }
  | { kind: 'trigram'; match: string; through: number };

export interface JobQuery {
  /** `FROM …` text; the jobs table is always aliased `j`. */
  from: string;
  where: string[];
  /** Every bound argument, in textual order (FROM first). */
  args: unknown[];
}

/** Filters that compare one column for equality, the same on both stores. */
export const EQUALITY_COLUMNS = [
  'id',
  'status',
  'endpoint',
  'source',
  'project_id',
  'workflow_id',
  'workflow_node_id',
  'model',
] as const;

const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);

/** Conditions on indexed `jobs` columns only (equalities and the created_at window). */
export function coreWhere(f: JobFilters): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  for (const column of EQUALITY_COLUMNS) {
    const v = f[column];
    if (v !== undefined) {
      where.push(`j.${column} = ?`);
      args.push(v);
    }
  }
  if (f.from_date !== undefined) {
    where.push('j.created_at >= ?');
    args.push(dayBounds(f.from_date).start);
  }
  if (f.to_date !== undefined) {
    where.push('j.created_at < ?');
    args.push(dayBounds(f.to_date).end);
  }
  return { where, args };
}

/**
 * Non-ASCII characters that JavaScript lower-cases to ASCII letters (checked over every code point): the only
 * way a name can contain an ASCII needle in JS (`filenameContainsMatcher`) but not under SQLite's ASCII-only
 * lower(). Names holding one of them are re-checked by the exact JS matcher.
 */
const FOLDS_TO_ASCII: [string, string][] = [
  ['\u0130', 'i'],
  ['\u212a', 'k'],
];

/** A condition on `job_files f` for a filename filter. */
function fileCondition(kind: 'regex' | 'contains', value: string): { sql: string; args: unknown[] } {
  if (kind === 'regex') return { sql: 're2_match(?, f.filename)', args: [value] };
  const needle = value.toLowerCase();
  if (!isAscii(needle)) return { sql: 'ci_contains(?, f.filename)', args: [value] };
  const special = FOLDS_TO_ASCII.filter(([, ascii]) => needle.includes(ascii)).map(([c]) => c);
  if (special.length === 0) return { sql: 'instr(lower(f.filename), ?) > 0', args: [needle] };
  const has = special.map(() => 'instr(f.filename, ?) > 0').join(' OR ');
  return {
    sql: `(instr(lower(f.filename), ?) > 0 OR ((${has}) AND ci_contains(?, f.filename)))`,
    args: [needle, ...special, value],
  };
}

export const hasFileFilter = (f: JobFilters): boolean =>
  f.filename_regex !== undefined || f.filename_contains !== undefined;

/** The whole query shape for `f` with the given driver. */
export function buildQuery(f: JobFilters, driver: Driver = { kind: 'scan' }): JobQuery {
  let from = 'jobs j';
  const fromArgs: unknown[] = [];
  const { where, args } = coreWhere(f);
  // Side-table probes name the candidate's seq when candidates drive: SQLite then runs them before reading
  // the (wide) jobs row, which only the survivors need.
  let seq = 'j.seq';
  if (driver.kind === 'trigram') {
    // Candidates only: every filename filter is still tested exactly below.
    from = CANDIDATES_FROM;
    fromArgs.push(driver.match, driver.through);
    seq = 'd.job_seq';
  }
  const types = f.document_type ?? [];
  if (types.length > 0) {
    const marks = types.map(() => '?').join(', ');
    if (driver.kind === 'document_type') {
      from = `(SELECT DISTINCT job_seq FROM job_files WHERE document_type IN (${marks})) d CROSS JOIN jobs j ON j.seq = d.job_seq`;
      fromArgs.push(...types);
    } else {
      where.push(
        `EXISTS (SELECT 1 FROM job_files f WHERE f.job_seq = ${seq} AND f.document_type IN (${marks}))`,
      );
      args.push(...types);
    }
  }
  for (const [key, value] of Object.entries(f.metadata ?? {})) {
    if (driver.kind === 'metadata' && driver.key === key) {
      from = 'job_metadata d CROSS JOIN jobs j ON j.seq = d.job_seq';
      where.push('d.key = ? AND d.value = ?');
    } else {
      where.push(
        `EXISTS (SELECT 1 FROM job_metadata m WHERE m.job_seq = ${seq} AND m.key = ? AND m.value = ?)`,
      );
    }
    args.push(key, value);
  }
  const fileFilters: ['regex' | 'contains', string][] = [];
  if (f.filename_regex !== undefined) fileFilters.push(['regex', f.filename_regex]);
  if (f.filename_contains !== undefined) fileFilters.push(['contains', f.filename_contains]);
  fileFilters.forEach(([kind, value], i) => {
    const c = fileCondition(kind, value);
    if (driver.kind === 'files' && i === 0) {
      // NOT INDEXED: one sequential pass over the table, not a walk of the (job_seq) index with a lookup per row.
      from = `(SELECT DISTINCT job_seq FROM job_files f NOT INDEXED WHERE ${c.sql}) d CROSS JOIN jobs j ON j.seq = d.job_seq`;
      fromArgs.push(...c.args);
    } else {
      where.push(`EXISTS (SELECT 1 FROM job_files f WHERE f.job_seq = ${seq} AND ${c.sql})`);
      args.push(...c.args);
    }
  });
  return { from, where, args: [...fromArgs, ...args] };
}

/** Approximate number of mirrored jobs: the largest rowid (O(log n)); an exact count if `jobs` has no rowid. */
export function approxJobCount(sqlite: Database.Database): number {
  try {
    return (prepareCached(sqlite, 'SELECT max(rowid) AS n FROM jobs').get() as { n: number | null }).n ?? 0;
  } catch {
    return (prepareCached(sqlite, 'SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
  }
}

/**
 * Drive from the rarest metadata pair or document-type set when it has fewer matches than walking the
 * listing would probe to find `want` rows. Probing costs ~1/6 of a driven row (lookup + sort), so walking
 * examines about want·total/matches jobs and driving handles `matches` rows: the break-even count is
 * √(want·total/6), capped at total/6 when every match is wanted.
 */
export function choosePlan(sqlite: Database.Database, f: JobFilters, want: number): Driver {
  if (f.id !== undefined) return { kind: 'scan' };
  const pairs = Object.entries(f.metadata ?? {});
  const types = f.document_type ?? [];
  if (pairs.length === 0 && types.length === 0) return { kind: 'scan' };
  const total = approxJobCount(sqlite);
  const cap = Math.max(50, Math.ceil(Math.min(total / 6, Math.sqrt((want * total) / 6))));
  let best: Driver = { kind: 'scan' };
  let bestCount = cap;
  for (const [key, value] of pairs) {
    const n = (
      prepareCached(
        sqlite,
        'SELECT count(*) AS n FROM (SELECT 1 FROM job_metadata WHERE key = ? AND value = ? LIMIT ?)',
      ).get(key, value, cap) as { n: number }
    ).n;
    if (n < bestCount) [best, bestCount] = [{ kind: 'metadata', key }, n];
  }
  if (types.length > 0) {
    const marks = types.map(() => '?').join(', ');
    const n = (
      prepareCached(
        sqlite,
        `SELECT count(*) AS n FROM (SELECT 1 FROM job_files WHERE document_type IN (${marks}) LIMIT ?)`,
      ).get(...types, cap) as { n: number }
    ).n;
    if (n < bestCount) best = { kind: 'document_type' };
  }
  return best;
}
