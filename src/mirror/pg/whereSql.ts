/**
 * SQL for the list filters over `jobs j` on PostgreSQL, and the exact filename test that judges what it
 * admits (see queryJobsPg.ts for why `filename_regex`, and a `filename_contains` needle outside ASCII, are
 * only narrowed in SQL). Every value is a bound parameter.
 */
import { dayBounds, filenameContainsMatcher, filenameRegexMatcher } from '../../retab/index.ts';
import { EQUALITY_COLUMNS, type JobFilters } from '../buildWhere.ts';
import { BOUNDARY, containsQuery, type LiteralQuery, regexQuery } from '../filenameLiterals.ts';
import { supersetRegex } from './pgRegex.ts';
import { foldedFilename } from './schema.ts';
import { lookupQuery } from './trigramLookup.ts';

/** SQL text with `$n` placeholders, built left to right. */
export class Sql {
  readonly args: unknown[] = [];
  arg(v: unknown, cast = ''): string {
    this.args.push(v);
    return `$${this.args.length}${cast}`;
  }
}

const FOLDED = foldedFilename('f.filename');
/**
 * The same text as `FOLDED`, written so the planner does not match it to the index (the translate's
 * characters in another order): for conditions to test on candidates, not to look up.
 */
const FOLDED_UNINDEXED = `translate(lower(f.filename COLLATE "C"), U&'\\017F\\212A\\0130', 'ski')`;

/**
 * A filename as JavaScript's `toLowerCase` writes it, as far as ASCII text is concerned: ASCII letters
 * lower-cased bytewise (`COLLATE "C"`), and the only two code points whose JavaScript lower case contains
 * ASCII (U+212A Kelvin sign -> `k`, U+0130 `İ` -> `i` + U+0307; every other code point lower-cases to
 * non-ASCII text, so the ASCII runs of a name are the same here and in JavaScript). An ASCII needle is a
 * substring of this exactly when `filenameContainsMatcher` (../../retab/jobFields.ts) says it is one.
 */
const JS_LOWER = `replace(translate(lower(f.filename COLLATE "C"), U&'\\212A', 'k'), U&'\\0130', U&'i\\0307')`;

/**
 * The `LIKE` pattern deciding `filename_contains` exactly in SQL, or undefined when the needle (lower-cased
 * as the contract does) leaves ASCII (PostgreSQL's `lower` under `COLLATE "C"` folds ASCII only) or holds
 * NUL (which no PostgreSQL text holds).
 */
export function exactContainsPattern(needle: string): string | undefined {
  const n = needle.toLowerCase();
  if (!/^[\u0001-\u007f]*$/.test(n)) return undefined;
  return `%${n.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * `filename_contains` decided in SQL (an ASCII needle; its `LIKE` pattern `p`): the folded name, which the
 * trigram index answers, admits a superset (it also folds `ſ` to `s` and `İ` to a bare `i`); a name holding
 * neither is its own exact answer, the rare one that does is tested on `JS_LOWER`. Written so, the planner's
 * estimate is the folded name's (its statistics), not a guess for an unindexed expression.
 */
function exactContainsSql(p: string, lookup: string, s: Sql): string {
  const arg = s.arg(p);
  if (lookup !== 'true') return `${lookup} AND ${JS_LOWER} LIKE ${arg}`;
  return `${FOLDED} LIKE ${arg} AND (f.filename NOT LIKE U&'%\\0130%' AND f.filename NOT LIKE U&'%\\017F%' OR ${JS_LOWER} LIKE ${arg})`;
}

/** `LIKE` pattern for a folded literal: `\n` at an end anchors it to the name's start or end. */
function likePattern(lit: string): string {
  const start = lit.startsWith(BOUNDARY);
  const end = lit.length > 1 && lit.endsWith(BOUNDARY);
  const core = lit.slice(start ? 1 : 0, end ? -1 : undefined).replace(/[\\%_]/g, (c) => `\\${c}`);
  return `${start ? '' : '%'}${core}${end ? '' : '%'}`;
}

/** The literal query as a condition on `f` (a `job_files` row); 'true' when it constrains nothing. */
function literalSql(q: LiteralQuery, s: Sql, on = FOLDED): string {
  switch (q.op) {
    case 'all':
      return 'true';
    case 'none':
      return 'false';
    case 'lit':
      return `${on} LIKE ${s.arg(likePattern(q.lit))}`;
    case 'and':
    case 'or': {
      const parts = q.args.map((a) => literalSql(a, s, on));
      return `(${parts.join(q.op === 'and' ? ' AND ' : ' OR ')})`;
    }
  }
}

/** `regexQuery` and `supersetRegex` of recent patterns (pure, and each compiles the pattern: ~0.5 ms). */
const recent = new Map<string, { q: LiteralQuery; re: string | undefined }>();
function analysed(pattern: string): { q: LiteralQuery; re: string | undefined } {
  let a = recent.get(pattern);
  if (!a) {
    a = { q: regexQuery(pattern), re: supersetRegex(pattern) };
    if (recent.size >= 64) recent.delete(recent.keys().next().value as string);
    recent.set(pattern, a);
  }
  return a;
}

/** WHERE conditions for every filter (filename ones only narrowed: see the file header). */
export function filterSql(f: JobFilters, s: Sql): string[] {
  const { where, files } = filterParts(f, s);
  return [...where, ...files.map(anyFile)];
}

/** Some file of job `j` meets `cond` (a condition on `job_files f`). */
export const anyFile = (cond: string): string =>
  `EXISTS (SELECT 1 FROM job_files f WHERE f.job_seq = j.seq AND ${cond})`;

/**
 * `filterSql`'s conditions in two parts: `files`, one condition on a `job_files f` row per filename filter
 * (each may be met by a different file of the job: see `anyFile`), and `where`, every other one.
 */
export function filterParts(
  f: JobFilters,
  s: Sql,
  sample?: readonly string[],
): { where: string[]; files: string[] } {
  const where: string[] = [];
  const files: string[] = [];
  for (const column of EQUALITY_COLUMNS) {
    const v = f[column];
    if (v !== undefined) where.push(`j.${column} = ${s.arg(v)}`);
  }
  if (f.from_date !== undefined) where.push(`j.created_at >= ${s.arg(dayBounds(f.from_date).start)}`);
  if (f.to_date !== undefined) where.push(`j.created_at < ${s.arg(dayBounds(f.to_date).end)}`);
  const types = f.document_type ?? [];
  if (types.length > 0)
    where.push(
      `EXISTS (SELECT 1 FROM job_files f WHERE f.job_seq = j.seq AND f.document_type = ANY(${s.arg(types, '::text[]')}))`,
    );
  for (const [key, value] of Object.entries(f.metadata ?? {}))
    where.push(
      `EXISTS (SELECT 1 FROM job_metadata m WHERE m.job_seq = j.seq AND m.key = ${s.arg(key)} AND m.value = ${s.arg(value)})`,
    );
  // The trigram index looks up the rare part of each literal query (trigramLookup.ts); the rest is tested
  // on the candidates, on `FOLDED_UNINDEXED` (the same text, which the index does not answer).
  const conds: string[] = [];
  if (f.filename_regex !== undefined) {
    const { q, re } = analysed(f.filename_regex);
    const lookup = lookupQuery(q, sample);
    const parts = [literalSql(lookup, s)];
    // The regex is tested on the candidates when literals are looked up (pg_trgm would otherwise add the
    // trigrams it reads in the regex, common ones included, to the lookup); looked up itself when none are.
    if (re !== undefined) parts.push(`${lookup.op === 'all' ? FOLDED : FOLDED_UNINDEXED} ~ ${s.arg(re)}`);
    else if (lookup !== q) parts.push(literalSql(q, s, FOLDED_UNINDEXED));
    conds.push(parts.filter((x) => x !== 'true').join(' AND ') || 'true');
  }
  if (f.filename_contains !== undefined) {
    const q = containsQuery(f.filename_contains);
    const p = exactContainsPattern(f.filename_contains);
    const lookup = lookupQuery(q, sample);
    if (p === undefined) conds.push(literalSql(lookup, s));
    else conds.push(exactContainsSql(p, lookup === q ? 'true' : literalSql(lookup, s), s));
  }
  // One EXISTS per filter: each may be satisfied by a different file of the job.
  for (const cond of conds) if (cond !== 'true') files.push(cond);
  return { where, files };
}

/**
 * The exact filename test left to JavaScript (what `filterSql` only narrowed); undefined when SQL decides
 * every filter exactly.
 */
export function exactTest(f: JobFilters): ((names: readonly string[]) => boolean) | undefined {
  const tests: Array<(name: string) => boolean> = [];
  if (f.filename_regex !== undefined) tests.push(filenameRegexMatcher(f.filename_regex));
  if (f.filename_contains !== undefined && exactContainsPattern(f.filename_contains) === undefined)
    tests.push(filenameContainsMatcher(f.filename_contains));
  if (tests.length === 0) return undefined;
  return (names) => tests.every((t) => names.some(t));
}
