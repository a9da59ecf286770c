/**
 * `GET /v1/jobs` over the PostgreSQL mirror, with the answers of ../queryJobs.ts (DESIGN §1: listing order
 * `created_at` then `id` in the same direction, cursors that name a position, `has_more` in the direction of
 * travel, `list_metadata` from the same probes).
 *
 * Filename filters. `filename_contains` with an ASCII needle is decided in SQL: `LIKE` on the folded name
 * (schema.ts `foldedFilename`), which the pg_trgm index answers, with an exact guard for the rare names
 * whose folding differs from JavaScript's (whereSql.ts) — one statement, `LIMIT` in SQL. PostgreSQL's regex
 * dialect is not RE2, so `filename_regex` (and a needle outside ASCII) is only narrowed in SQL, by the
 * literals it requires (../filenameLiterals.ts, the same analysis SQLite's index uses) as `LIKE` conditions
 * on the folded name, and judged in JavaScript: candidates are read narrow (seq, position, filenames) a
 * batch at a time from the page size up, tested exactly in RE2, and only the rows that pass are read in
 * full. A filter that requires no literal gets no SQL condition: every job is tested (correct, as slow as
 * SQLite's plan without its index).
 *
 * Each query runs in one read-only REPEATABLE READ transaction (its batches and probes see one snapshot)
 * under a statement timeout: a user's query never holds the database for long.
 */
import type pg from 'pg';
import type { Job, JobList, NormalizedListParams } from '../../retab/index.ts';
import { InvalidCursorError, supersetList } from '../../retab/index.ts';
import type { JobFilters } from '../buildWhere.ts';
import type { IterateParams } from '../queryJobs.ts';
import { type JobRow, rowToJob } from '../rowToJob.ts';
import { PG_ROW_TO_JOB_COLUMNS } from './jobColumnsPg.ts';
import { inReadOnlySnapshot } from './transaction.ts';
import { exactTest, filterSql, Sql } from './whereSql.ts';

export interface QueryJobsPgOptions {
  /** Server-side limit of each statement, ms. @default 30000 */
  statementTimeoutMs?: number;
  /**
   * Candidates read by the first batch of a walk judged in JavaScript (a `filename_regex`), at least the
   * rows wanted (then doubling up to 12,800). @default 20
   */
  batch?: number;
}

type Dir = 'asc' | 'desc';
interface Position {
  createdAt: number;
  id: string;
}

const COLUMNS = PG_ROW_TO_JOB_COLUMNS;

function columns(inc: { include_request?: boolean; include_response?: boolean }): string {
  return `${COLUMNS}, ${inc.include_request ? 'j.request' : 'NULL AS request'}, ${inc.include_response ? 'j.response' : 'NULL AS response'}`;
}

/** A position bound: strictly beyond `pos` walking in `dir`. */
function beyond(pos: Position, dir: Dir, s: Sql): string {
  return `(j.created_at, j.id) ${dir === 'asc' ? '>' : '<'} (${s.arg(pos.createdAt, '::bigint')}, ${s.arg(pos.id, '::text')})`;
}

type Bound = { kind: 'beyond'; pos: Position } | { kind: 'id'; id: string };

interface Walk {
  filters: JobFilters;
  dir: Dir;
  inc: { include_request?: boolean; include_response?: boolean };
  bound?: Bound;
}

/** The largest batch of candidates a judged walk reads at once (it doubles up to it). */
const MAX_BATCH = 12_800;

type Candidate = { seq: number; createdAt: number; id: string; names: string[] };

/**
 * The first `want` matching rows in walking order. Filters SQL decides exactly: one statement, `LIMIT want`.
 * Otherwise a judged walk: candidates (seq, position, filenames only) in batches of `batch`, doubling up to
 * `MAX_BATCH`, tested in JavaScript until `want` pass; then one statement reads the rows that passed.
 */
async function firstRows(c: pg.PoolClient, w: Walk, want: number, batch: number): Promise<JobRow[]> {
  const order = w.dir.toUpperCase();
  const walkSql = (cols: string, bound: Bound | undefined, limit: number) => {
    const s = new Sql();
    const where = filterSql(w.filters, s);
    if (bound?.kind === 'beyond') where.push(beyond(bound.pos, w.dir, s));
    if (bound?.kind === 'id') where.push(`j.id = ${s.arg(bound.id)}`);
    const text = `SELECT ${cols} FROM jobs j ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY j.created_at ${order}, j.id ${order} LIMIT ${s.arg(limit)}`;
    return { text, args: s.args };
  };
  const test = exactTest(w.filters);
  if (!test) {
    const q = walkSql(columns(w.inc), w.bound, want);
    return (await c.query<JobRow>(q.text, q.args)).rows;
  }
  const kept: number[] = [];
  let bound = w.bound;
  for (let size = Math.max(batch, want); ; size = Math.min(size * 2, Math.max(MAX_BATCH, want))) {
    const q = walkSql(
      `j.seq, j.created_at AS "createdAt", j.id, ARRAY(SELECT f.filename FROM job_files f WHERE f.job_seq = j.seq) AS names`,
      bound,
      size,
    );
    const rows = (await c.query<Candidate>(q.text, q.args)).rows;
    for (const r of rows) if (test(r.names)) kept.push(r.seq);
    const last = rows[rows.length - 1];
    if (kept.length >= want || rows.length < size || !last) break;
    bound = { kind: 'beyond', pos: { createdAt: last.createdAt, id: last.id } };
  }
  if (kept.length === 0) return [];
  const s = new Sql();
  const text = `SELECT ${columns(w.inc)} FROM jobs j WHERE j.seq = ANY(${s.arg(kept.slice(0, want), '::bigint[]')})
    ORDER BY j.created_at ${order}, j.id ${order}`;
  return (await c.query<JobRow>(text, s.args)).rows;
}

/**
 * One page of `GET /v1/jobs` from the PostgreSQL mirror (the same answer as ../queryJobs.ts `queryJobs`).
 * @throws InvalidCursorError when `before`/`after` names no mirrored job; a pg error (SQLSTATE 57014) when a
 *   statement runs past the timeout.
 */
export async function queryJobsPg(
  pool: pg.Pool,
  params: NormalizedListParams,
  opts: QueryJobsPgOptions = {},
): Promise<JobList> {
  const batch = opts.batch ?? 20;
  return inReadOnlySnapshot(pool, opts.statementTimeoutMs ?? 30_000, async (c) => {
    const backward = params.before !== undefined;
    const dir: Dir = backward ? (params.order === 'asc' ? 'desc' : 'asc') : params.order;
    const cursorId = params.before ?? params.after;
    let bound: Bound | undefined;
    if (cursorId !== undefined) {
      const r = await c.query<Position>('SELECT created_at AS "createdAt", id FROM jobs WHERE id = $1', [
        cursorId,
      ]);
      const pos = r.rows[0];
      if (!pos) throw InvalidCursorError.unknownCursor(backward ? 'before' : 'after', cursorId);
      bound = { kind: 'beyond', pos };
    }
    const walk: Walk = { filters: params, dir, inc: params, ...(bound ? { bound } : {}) };
    const rows = await firstRows(c, walk, params.limit + 1, batch);
    const hasMore = rows.length > params.limit;
    const page = rows.slice(0, params.limit);
    // Whether matches lie behind the page (only a cursor can leave any): the cursor job itself, else one row
    // from the page's first row the other way (as ../queryJobs.ts).
    let hasBehind = false;
    const head = page[0];
    if (cursorId !== undefined && head !== undefined) {
      const back: Dir = dir === 'asc' ? 'desc' : 'asc';
      const probe = async (b: Bound) =>
        (await firstRows(c, { filters: params, dir: back, inc: {}, bound: b }, 1, batch)).length > 0;
      hasBehind =
        (await probe({ kind: 'id', id: cursorId })) ||
        (await probe({ kind: 'beyond', pos: { createdAt: head.createdAt, id: head.id } }));
    }
    if (backward) page.reverse();
    const data = page.map((r) =>
      rowToJob(r, { includeRequest: params.include_request, includeResponse: params.include_response }),
    );
    return supersetList(data, { hasMore, hasBehind, backward });
  });
}

/** `GET /v1/jobs/{id}` from the PostgreSQL mirror; undefined when it has no such job. */
export async function getJobPg(
  pool: pg.Pool,
  id: string,
  inc: { include_request?: boolean; include_response?: boolean } = {},
): Promise<Job | undefined> {
  const r = await pool.query<JobRow>(`SELECT ${columns(inc)} FROM jobs j WHERE j.id = $1`, [id]);
  const row = r.rows[0];
  return row
    ? rowToJob(row, {
        includeRequest: inc.include_request === true,
        includeResponse: inc.include_response === true,
      })
    : undefined;
}

/**
 * Every matching job in listing order (../queryJobs.ts `iterateJobs`), read in keyset batches of `batch`
 * rows, so memory stays constant and no connection is held between batches (each batch is its own
 * snapshot: a job written meanwhile may or may not be included, never twice).
 * @throws InvalidCursorError when `after` names no mirrored job.
 */
export async function* iterateJobsPg(
  pool: pg.Pool,
  params: IterateParams,
  opts: QueryJobsPgOptions = {},
): AsyncGenerator<Job> {
  const dir: Dir = params.order ?? 'desc';
  let bound: Bound | undefined;
  if (params.after !== undefined) {
    const r = await pool.query<Position>('SELECT created_at AS "createdAt", id FROM jobs WHERE id = $1', [
      params.after,
    ]);
    const pos = r.rows[0];
    if (!pos) throw InvalidCursorError.unknownCursor('after', params.after);
    bound = { kind: 'beyond', pos };
  }
  const size = opts.batch ?? 1000;
  for (;;) {
    const walk: Walk = { filters: params, dir, inc: params, ...(bound ? { bound } : {}) };
    const rows = await inReadOnlySnapshot(pool, opts.statementTimeoutMs ?? 30_000, (c) =>
      firstRows(c, walk, size, size),
    );
    for (const r of rows)
      yield rowToJob(r, {
        includeRequest: params.include_request === true,
        includeResponse: params.include_response === true,
      });
    const last = rows[rows.length - 1];
    if (rows.length < size || !last) return;
    bound = { kind: 'beyond', pos: { createdAt: last.createdAt, id: last.id } };
  }
}
