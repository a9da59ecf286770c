/**
 * `GET /v1/jobs` over the mirror, with the upstream's exact semantics (DESIGN §1): listing order
 * `created_at` then `id` in the same direction, cursors that name a position (the cursor job need not match
 * the filters), `has_more` in the direction of travel, payloads only when asked.
 *
 * Every filter is a bound parameter in a prepared statement. Filters on indexed columns are plain equalities;
 * filenames, document types and metadata are `EXISTS` probes on their indexed side tables. User regexes run
 * in RE2 (linear time) through an SQLite function, so a hostile pattern cannot stall the process.
 */
import type Database from 'better-sqlite3';
import { dayBounds, filenameContainsMatcher, filenameRegexMatcher } from '../retab/jobFields.ts';
import type { NormalizedListParams } from '../retab/params.ts';
import type { Job, JobList } from '../retab/schemas.ts';
import type { Mirror } from './openMirror.ts';
import { type JobRow, rowToJob } from './rowToJob.ts';

/** The filter part of list params: what `buildWhere` reads (stats and exports reuse it). */
export type JobFilters = Partial<
  Omit<NormalizedListParams, 'before' | 'after' | 'limit' | 'order' | 'include_request' | 'include_response'>
>;

/** A cursor id that names no mirrored job: the upstream answers 400 `invalid_cursor`. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
  readonly status = 400;
  constructor(
    readonly param: 'before' | 'after',
    readonly cursor: string,
  ) {
    super(`\`${param}\` is not the id of an existing job: ${cursor}. Restart the listing without a cursor.`);
  }

  /** The upstream's error body for this cursor. */
  get body(): { detail: { code: string; message: string; details: Record<string, unknown> } } {
    return {
      detail: {
        code: 'invalid_cursor',
        message: this.message,
        details: { param: this.param, cursor: this.cursor },
      },
    };
  }
}

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
const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** Register `re2_match(pattern, name)` and `ci_contains(needle, name)` (1/0) on a connection, once. */
export function registerQueryFunctions(sqlite: Database.Database): void {
  if (registered.has(sqlite)) return;
  sqlite.function('re2_match', { deterministic: true }, (pattern, name) =>
    typeof pattern === 'string' &&
    typeof name === 'string' &&
    cached(regexCache, pattern, filenameRegexMatcher)(name)
      ? 1
      : 0,
  );
  sqlite.function('ci_contains', { deterministic: true }, (needle, name) =>
    typeof needle === 'string' &&
    typeof name === 'string' &&
    cached(containsCache, needle, filenameContainsMatcher)(name)
      ? 1
      : 0,
  );
  registered.add(sqlite);
}

/** Prepared statements are cached per connection and SQL text (the text depends only on which filters are set). */
export function prepareCached(sqlite: Database.Database, text: string): Database.Statement {
  registerQueryFunctions(sqlite);
  let byText = statements.get(sqlite);
  if (!byText) {
    byText = new Map();
    statements.set(sqlite, byText);
  }
  let stmt = byText.get(text);
  if (!stmt) {
    if (byText.size >= 256) byText.clear();
    stmt = sqlite.prepare(text);
    byText.set(text, stmt);
  }
  return stmt;
}

// ---- WHERE clause

export interface SqlPart {
  /** SQL conditions over `jobs j`, to be joined with AND. */
  clauses: string[];
  args: unknown[];
}

const EQUALITY_COLUMNS = [
  ['id', 'id'],
  ['status', 'status'],
  ['endpoint', 'endpoint'],
  ['source', 'source'],
  ['project_id', 'project_id'],
  ['workflow_id', 'workflow_id'],
  ['workflow_node_id', 'workflow_node_id'],
  ['model', 'model'],
] as const;

const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);

/** The conditions of every filter in `f`, over `jobs j`. */
export function buildWhere(f: JobFilters): SqlPart {
  const clauses: string[] = [];
  const args: unknown[] = [];
  for (const [param, column] of EQUALITY_COLUMNS) {
    const v = f[param];
    if (v !== undefined) {
      clauses.push(`j.${column} = ?`);
      args.push(v);
    }
  }
  if (f.from_date !== undefined) {
    clauses.push('j.created_at >= ?');
    args.push(dayBounds(f.from_date).start);
  }
  if (f.to_date !== undefined) {
    clauses.push('j.created_at < ?');
    args.push(dayBounds(f.to_date).end);
  }
  if (f.document_type && f.document_type.length > 0) {
    const marks = f.document_type.map(() => '?').join(', ');
    clauses.push(
      `EXISTS (SELECT 1 FROM job_files f WHERE f.job_id = j.id AND f.document_type IN (${marks}))`,
    );
    args.push(...f.document_type);
  }
  for (const [key, value] of Object.entries(f.metadata ?? {})) {
    clauses.push('EXISTS (SELECT 1 FROM job_metadata m WHERE m.job_id = j.id AND m.key = ? AND m.value = ?)');
    args.push(key, value);
  }
  if (f.filename_contains !== undefined) {
    const needle = f.filename_contains.toLowerCase();
    if (isAscii(needle)) {
      // SQLite's lower() folds ASCII only: it decides every all-ASCII name; names with other characters
      // (where JavaScript's Unicode folding can differ) are re-checked by the exact JS matcher.
      clauses.push(
        `EXISTS (SELECT 1 FROM job_files f WHERE f.job_id = j.id AND (instr(lower(f.filename), ?) > 0 OR
          (length(f.filename) <> length(CAST(f.filename AS BLOB)) AND ci_contains(?, f.filename))))`,
      );
      args.push(needle, f.filename_contains);
    } else {
      clauses.push('EXISTS (SELECT 1 FROM job_files f WHERE f.job_id = j.id AND ci_contains(?, f.filename))');
      args.push(f.filename_contains);
    }
  }
  if (f.filename_regex !== undefined) {
    clauses.push('EXISTS (SELECT 1 FROM job_files f WHERE f.job_id = j.id AND re2_match(?, f.filename))');
    args.push(f.filename_regex);
  }
  return { clauses, args };
}

// ---- rows → jobs

const BASE_COLUMNS = `j.id, j.status, j.endpoint, j.created_at AS createdAt, j.started_at AS startedAt,
  j.completed_at AS completedAt, j.expires_at AS expiresAt, j.organization_id AS organizationId,
  j.metadata, j.error, j.extra`;

function columns(includeRequest: boolean, includeResponse: boolean): string {
  return `${BASE_COLUMNS}, ${includeRequest ? 'j.request' : 'NULL AS request'}, ${includeResponse ? 'j.response' : 'NULL AS response'}`;
}

export interface IncludeFlags {
  include_request?: boolean;
  include_response?: boolean;
}

function toJob(row: unknown, inc: IncludeFlags): Job {
  return rowToJob(row as JobRow, {
    includeRequest: inc.include_request === true,
    includeResponse: inc.include_response === true,
  });
}

// ---- cursors

interface Position {
  createdAt: number;
  id: string;
}

function cursorPosition(sqlite: Database.Database, param: 'before' | 'after', id: string): Position {
  const pos = prepareCached(sqlite, 'SELECT created_at AS createdAt, id FROM jobs WHERE id = ?').get(id) as
    | Position
    | undefined;
  if (!pos) throw new InvalidCursorError(param, id);
  return pos;
}

/** Condition "strictly after `pos` when walking in `dir`" on (created_at, id). */
function beyond(pos: Position, dir: 'asc' | 'desc'): SqlPart {
  return {
    clauses: [`(j.created_at, j.id) ${dir === 'asc' ? '>' : '<'} (?, ?)`],
    args: [pos.createdAt, pos.id],
  };
}

function selectText(where: string[], dir: 'asc' | 'desc', cols: string, limited: boolean): string {
  const cond = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const d = dir.toUpperCase();
  return `SELECT ${cols} FROM jobs j ${cond} ORDER BY j.created_at ${d}, j.id ${d}${limited ? ' LIMIT ?' : ''}`;
}

// ---- public API

/**
 * One page of `GET /v1/jobs` from the mirror.
 * @throws InvalidCursorError when `before`/`after` names no mirrored job.
 */
export function queryJobs(mirror: Pick<Mirror, 'sqlite'>, params: NormalizedListParams): JobList {
  const { sqlite } = mirror;
  const where = buildWhere(params);
  const backward = params.before !== undefined;
  // Walking backward means reading the listing in reverse from the cursor, then flipping the page.
  const dir: 'asc' | 'desc' = backward ? (params.order === 'asc' ? 'desc' : 'asc') : params.order;
  const cursorId = params.before ?? params.after;
  if (cursorId !== undefined) {
    const b = beyond(cursorPosition(sqlite, backward ? 'before' : 'after', cursorId), dir);
    where.clauses.push(...b.clauses);
    where.args.push(...b.args);
  }
  const text = selectText(where.clauses, dir, columns(params.include_request, params.include_response), true);
  const rows = prepareCached(sqlite, text).all(...where.args, params.limit + 1);
  const hasMore = rows.length > params.limit;
  const page = rows.slice(0, params.limit);
  if (backward) page.reverse();
  const data = page.map((r) => toJob(r, params));
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: hasMore,
  };
}

export type IterateParams = JobFilters &
  IncludeFlags & {
    order?: 'asc' | 'desc';
    /** Start after this job's position (as the `after` cursor). */
    after?: string;
  };

/**
 * Every matching job in listing order, streamed from one statement (constant memory on any mirror size):
 * for exports and `jobs list --all`. The connection is busy until the iterator finishes or is returned.
 * @throws InvalidCursorError when `after` names no mirrored job.
 */
export function* iterateJobs(mirror: Pick<Mirror, 'sqlite'>, params: IterateParams): Generator<Job> {
  const { sqlite } = mirror;
  const dir = params.order ?? 'desc';
  const where = buildWhere(params);
  if (params.after !== undefined) {
    const b = beyond(cursorPosition(sqlite, 'after', params.after), dir);
    where.clauses.push(...b.clauses);
    where.args.push(...b.args);
  }
  const text = selectText(
    where.clauses,
    dir,
    columns(params.include_request === true, params.include_response === true),
    false,
  );
  // A fresh statement: a cached one could be wanted by another query while this iterator is open.
  registerQueryFunctions(sqlite);
  for (const row of sqlite.prepare(text).iterate(...where.args)) yield toJob(row, params);
}

/** `GET /v1/jobs/{id}` from the mirror; undefined when the mirror has no such job. */
export function getJob(mirror: Pick<Mirror, 'sqlite'>, id: string, inc: IncludeFlags = {}): Job | undefined {
  const text = `SELECT ${columns(inc.include_request === true, inc.include_response === true)} FROM jobs j WHERE j.id = ?`;
  const row = prepareCached(mirror.sqlite, text).get(id);
  return row === undefined ? undefined : toJob(row, inc);
}
