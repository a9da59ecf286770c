/**
 * SQL for the list filters over `jobs j` on PostgreSQL, and the exact filename test that judges what it
 * admits (see queryJobsPg.ts for why filename filters are only narrowed in SQL). Every value is a bound
 * parameter.
 */
import { dayBounds, filenameContainsMatcher, filenameRegexMatcher } from '../../retab/index.ts';
import { EQUALITY_COLUMNS, type JobFilters } from '../buildWhere.ts';
import { BOUNDARY, containsQuery, type LiteralQuery, regexQuery } from '../filenameLiterals.ts';
import { foldedFilename } from './schema.ts';

/** SQL text with `$n` placeholders, built left to right. */
export class Sql {
  readonly args: unknown[] = [];
  arg(v: unknown, cast = ''): string {
    this.args.push(v);
    return `$${this.args.length}${cast}`;
  }
}

const FOLDED = foldedFilename('f.filename');

/** `LIKE` pattern for a folded literal: `\n` at an end anchors it to the name's start or end. */
function likePattern(lit: string): string {
  const start = lit.startsWith(BOUNDARY);
  const end = lit.length > 1 && lit.endsWith(BOUNDARY);
  const core = lit.slice(start ? 1 : 0, end ? -1 : undefined).replace(/[\\%_]/g, (c) => `\\${c}`);
  return `${start ? '' : '%'}${core}${end ? '' : '%'}`;
}

/** The literal query as a condition on `f` (a `job_files` row); 'true' when it constrains nothing. */
function literalSql(q: LiteralQuery, s: Sql): string {
  switch (q.op) {
    case 'all':
      return 'true';
    case 'none':
      return 'false';
    case 'lit':
      return `${FOLDED} LIKE ${s.arg(likePattern(q.lit))}`;
    case 'and':
    case 'or': {
      const parts = q.args.map((a) => literalSql(a, s));
      return `(${parts.join(q.op === 'and' ? ' AND ' : ' OR ')})`;
    }
  }
}

/** WHERE conditions for every filter (filename ones only narrowed: see the file header). */
export function filterSql(f: JobFilters, s: Sql): string[] {
  const where: string[] = [];
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
  const literal: LiteralQuery[] = [];
  if (f.filename_regex !== undefined) literal.push(regexQuery(f.filename_regex));
  if (f.filename_contains !== undefined) literal.push(containsQuery(f.filename_contains));
  // One EXISTS per filter: each may be satisfied by a different file of the job.
  for (const q of literal) {
    const cond = literalSql(q, s);
    if (cond !== 'true') where.push(`EXISTS (SELECT 1 FROM job_files f WHERE f.job_seq = j.seq AND ${cond})`);
  }
  return where;
}

/** The exact filename test, in JavaScript; undefined when the filters have no filename filter. */
export function exactTest(f: JobFilters): ((names: readonly string[]) => boolean) | undefined {
  const tests: Array<(name: string) => boolean> = [];
  if (f.filename_regex !== undefined) tests.push(filenameRegexMatcher(f.filename_regex));
  if (f.filename_contains !== undefined) tests.push(filenameContainsMatcher(f.filename_contains));
  if (tests.length === 0) return undefined;
  return (names) => tests.every((t) => names.some(t));
}
