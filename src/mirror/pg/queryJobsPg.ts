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
 * SQLite's plan without its index). The trigram index looks up only the part of each literal worth its
 * posting lists (trigramLookup.ts, from the planner's sample of names); the rest is tested on candidates.
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
import { sampleNames } from './trigramLookup.ts';
import { anyFile, exactTest, filterParts, Sql } from './whereSql.ts';

export interface QueryJobsPgOptions {
  /** Server-side limit of each statement, ms. @default 30000 */
  statementTimeoutMs?: number;
  /**
   * Candidates read by the first batch of a walk judged in JavaScript (a `filename_regex`), at least the
   * rows wanted (then doubling up to 12,800). @default 20
   */
  batch?: number;
  /** Jobs a filename-filtered query first tests by walking the listing (see `firstRows`). @default 300 */
  firstWalk?: number;
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
  /** The planner's sample of filenames, for the trigram lookup (trigramLookup.ts). */
  sample?: readonly string[] | undefined;
}

/** The largest batch of candidates a judged walk reads at once (it doubles up to it). */
const MAX_BATCH = 12_800;
/** The longest listing walk worth extending to (in first walks) when its hit rate says the page is that far. */
const MAX_WALKS = 20;

const hasFilenameFilter = (f: JobFilters) =>
  f.filename_contains !== undefined || f.filename_regex !== undefined;

type Candidate = { seq: number; createdAt: number; id: string; hit?: boolean; names: string[] | null };

/**
 * The first `want` matching rows in walking order.
 *
 * Without a filename filter: one statement, `LIMIT want`. With one, the plan is chosen here, not left to the
 * planner, whose estimate for several `LIKE`/`~` conditions on one name is often off by orders of magnitude
 * (a bitmap over every candidate of a common stem, sorted, where the newest few hundred jobs hold the page;
 * or a walk of the whole listing for a stem that nothing matches):
 *  1. walk the listing: the next `firstWalk` jobs (listing index, `LIMIT` in a subquery so the walk is
 *     forced), each tested by the filename conditions; while the hit rate says the page is within
 *     `MAX_WALKS` × `firstWalk` jobs, walk on that far;
 *  2. otherwise (a rare filter), the rest as the planner likes it (the trigram index's candidates, sorted).
 * Filters SQL decides exactly pass on every hit; the others (`filename_regex`) are judged in JavaScript on
 * the hits' filenames. Rows are read narrow (seq, position, names) and the `want` that pass in full at the end.
 */
async function firstRows(
  c: pg.PoolClient,
  w: Walk,
  want: number,
  batch: number,
  firstWalk: number,
): Promise<JobRow[]> {
  const order = w.dir.toUpperCase();
  const orderBy = `ORDER BY j.created_at ${order}, j.id ${order}`;
  const parts = (s: Sql, bound: Bound | undefined) => {
    const p = filterParts(w.filters, s, w.sample);
    if (bound?.kind === 'beyond') p.where.push(beyond(bound.pos, w.dir, s));
    if (bound?.kind === 'id') p.where.push(`j.id = ${s.arg(bound.id)}`);
    return p;
  };
  const whereOf = (conds: string[]) => (conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '');
  const NAMES = 'ARRAY(SELECT f.filename FROM job_files f WHERE f.job_seq = j.seq)';
  const test = exactTest(w.filters);
  const shape = parts(new Sql(), w.bound);
  if (shape.files.length === 0 && !test) {
    const s = new Sql();
    const p = parts(s, w.bound);
    const text = `SELECT ${columns(w.inc)} FROM jobs j ${whereOf(p.where)} ${orderBy} LIMIT ${s.arg(want)}`;
    return (await c.query<JobRow>(text, s.args)).rows;
  }
  const kept: number[] = [];
  const keep = (rows: Candidate[]) => {
    for (const r of rows) if (r.hit !== false && (!test || test(r.names ?? []))) kept.push(r.seq);
  };
  let bound = w.bound;
  const next = (rows: Candidate[]) => {
    const last = rows[rows.length - 1];
    if (last) bound = { kind: 'beyond', pos: { createdAt: last.createdAt, id: last.id } };
  };
  let done = false;
  // 1. Listing walks, while the filename filters hit often enough.
  if (shape.files.length > 0) {
    for (let walk = firstWalk; ; ) {
      const s = new Sql();
      const p = parts(s, bound);
      // One lateral probe per job and filter (`LIMIT 1`: never planned as a hashed scan of every match).
      const probes = p.files.map(
        (cond, i) =>
          `LEFT JOIN LATERAL (SELECT true AS hit FROM job_files f WHERE f.job_seq = j.seq AND ${cond} LIMIT 1) h${i} ON true`,
      );
      const hit = p.files.map((_, i) => `h${i}.hit IS NOT NULL`).join(' AND ');
      const text = `SELECT j.seq, j.created_at AS "createdAt", j.id, ${hit} AS hit${test ? `, CASE WHEN ${hit} THEN ${NAMES} END AS names` : ''}
        FROM (SELECT j.seq, j.created_at, j.id FROM jobs j ${whereOf(p.where)} ${orderBy} LIMIT ${s.arg(walk)}) j
        ${probes.join('\n        ')} ${orderBy}`;
      const rows = (await c.query<Candidate>(text, s.args)).rows;
      const before = kept.length;
      keep(rows);
      next(rows);
      if (kept.length >= want || rows.length < walk) {
        done = true;
        break;
      }
      const found = kept.length - before;
      const needed =
        found === 0 ? Number.POSITIVE_INFINITY : Math.ceil(((want - kept.length) * walk * 1.5) / found);
      if (needed > firstWalk * MAX_WALKS) break;
      walk = Math.max(needed, firstWalk);
    }
  }
  // 2. The rest in batches, from the page size up, as the planner likes it.
  for (
    let size = Math.max(batch, want - kept.length);
    !done;
    size = Math.min(size * 2, Math.max(MAX_BATCH, want))
  ) {
    const s = new Sql();
    const p = parts(s, bound);
    const text = `SELECT j.seq, j.created_at AS "createdAt", j.id${test ? `, ${NAMES} AS names` : ''}
      FROM jobs j ${whereOf([...p.where, ...p.files.map(anyFile)])} ${orderBy} LIMIT ${s.arg(size)}`;
    const rows = (await c.query<Candidate>(text, s.args)).rows;
    keep(rows);
    next(rows);
    done = kept.length >= want || rows.length < size;
  }
  if (kept.length === 0) return [];
  const s = new Sql();
  const text = `SELECT ${columns(w.inc)} FROM jobs j WHERE j.seq = ANY(${s.arg(kept.slice(0, want), '::bigint[]')}) ${orderBy}`;
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
  const firstWalk = opts.firstWalk ?? 300;
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
    const sample = hasFilenameFilter(params) ? await sampleNames(pool, c) : undefined;
    const walk: Walk = { filters: params, dir, inc: params, sample, ...(bound ? { bound } : {}) };
    const rows = await firstRows(c, walk, params.limit + 1, batch, firstWalk);
    const hasMore = rows.length > params.limit;
    const page = rows.slice(0, params.limit);
    // Whether matches lie behind the page (only a cursor can leave any): the cursor job itself, else one row
    // from the page's first row the other way (as ../queryJobs.ts).
    let hasBehind = false;
    const head = page[0];
    if (cursorId !== undefined && head !== undefined) {
      const back: Dir = dir === 'asc' ? 'desc' : 'asc';
      const probe = async (b: Bound) =>
        (await firstRows(c, { filters: params, dir: back, inc: {}, sample, bound: b }, 1, batch, firstWalk))
          .length > 0;
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
    const rows = await inReadOnlySnapshot(pool, opts.statementTimeoutMs ?? 30_000, async (c) => {
      if (hasFilenameFilter(params)) walk.sample = await sampleNames(pool, c);
      return firstRows(c, walk, size, size, opts.firstWalk ?? 300);
    });
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
