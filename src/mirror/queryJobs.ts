/**
 * `GET /v1/jobs` over the mirror, with the upstream's exact semantics (DESIGN §1): listing order
 * `created_at` then `id` in the same direction, cursors that name a position (the cursor job need not match
 * the filters), `has_more` in the direction of travel, payloads only when asked.
 *
 * The SQL comes from buildWhere.ts (bound parameters only). Filename filters use the trigram index
 * (filenameIndex.ts) when the filter requires literals it can look up: few candidates are taken at once;
 * otherwise a page is first looked for by walking the listing through growing windows (fast when names match
 * often), and past a bound the cheaper of the index's candidates and one pass over `job_files` drives the
 * query. Every candidate is tested exactly, so answers never depend on the plan. User regexes run in RE2
 * (linear time), so no pattern can stall a query.
 */
import type Database from 'better-sqlite3';
import type { Job, JobList, NormalizedListParams } from '../retab/index.ts';
import { InvalidCursorError, supersetList } from '../retab/index.ts';
import {
  approxJobCount,
  buildQuery,
  choosePlan,
  coreWhere,
  type Driver,
  hasFileFilter,
  type JobFilters,
  prepareCached,
  registerQueryFunctions,
} from './buildWhere.ts';
import {
  countCandidates,
  FILENAME_INDEX_BATCH,
  filenameQuery,
  indexedThrough,
  trigramLookup,
} from './filenameIndex.ts';
import type { Mirror } from './openMirror.ts';
import { type JobRow, ROW_TO_JOB_COLUMNS, rowToJob } from './rowToJob.ts';
import type { IncludeFlags, IterateParams } from './store.ts';

export { InvalidCursorError } from '../retab/index.ts';
export type { JobFilters } from './buildWhere.ts';
export { registerQueryFunctions } from './buildWhere.ts';

// ---- rows → jobs

/** What `rowToJob` reads, from the column list (jobColumns.ts): a served column needs no edit here. */
const BASE_COLUMNS = ROW_TO_JOB_COLUMNS.map(([sql, key]) => `j.${sql} AS ${key}`).join(', ');

function columns(includeRequest: boolean, includeResponse: boolean): string {
  return `${BASE_COLUMNS}, ${includeRequest ? 'j.request' : 'NULL AS request'}, ${includeResponse ? 'j.response' : 'NULL AS response'}`;
}

export type { IncludeFlags, IterateParams } from './store.ts';

function toJob(row: unknown, inc: IncludeFlags): Job {
  return rowToJob(row as JobRow, {
    includeRequest: inc.include_request === true,
    includeResponse: inc.include_response === true,
  });
}

// ---- positions and ordering

interface Position {
  createdAt: number;
  id: string;
}
type Dir = 'asc' | 'desc';
interface Bound {
  where: string[];
  args: unknown[];
}

function cursorPosition(sqlite: Database.Database, param: 'before' | 'after', id: string): Position {
  const pos = prepareCached(sqlite, 'SELECT created_at AS createdAt, id FROM jobs WHERE id = ?').get(id) as
    | Position
    | undefined;
  if (!pos) throw InvalidCursorError.unknownCursor(param, id);
  return pos;
}

/** "Strictly beyond `pos` walking in `dir`" (a cursor), or "up to and including `pos`" (a window's end). */
function relative(pos: Position, dir: Dir, side: 'beyond' | 'upTo'): Bound {
  const op = (dir === 'asc') === (side === 'beyond') ? '>' : '<';
  return {
    where: [`(j.created_at, j.id) ${op}${side === 'upTo' ? '=' : ''} (?, ?)`],
    args: [pos.createdAt, pos.id],
  };
}

const orderBy = (dir: Dir) => `ORDER BY j.created_at ${dir.toUpperCase()}, j.id ${dir.toUpperCase()}`;
const whereText = (where: string[]) => (where.length > 0 ? `WHERE ${where.join(' AND ')}` : '');

interface Select {
  filters: JobFilters;
  dir: Dir;
  cols: string;
  bounds: Bound[];
}

function run(sqlite: Database.Database, s: Select, driver: Driver, limit: number, extra?: Bound): unknown[] {
  const q = buildQuery(s.filters, driver);
  const all = extra ? [...s.bounds, extra] : s.bounds;
  const where = [...q.where, ...all.flatMap((b) => b.where)];
  const text = `SELECT ${s.cols} FROM ${q.from} ${whereText(where)} ${orderBy(s.dir)} LIMIT ?`;
  return prepareCached(sqlite, text).all(...q.args, ...all.flatMap((b) => b.args), limit);
}

/** The `k`-th job in walking order among those passing the indexed filters; undefined when fewer exist. */
function kthCandidate(sqlite: Database.Database, s: Select, k: number): Position | undefined {
  const core = coreWhere(s.filters);
  const where = [...core.where, ...s.bounds.flatMap((b) => b.where)];
  const text = `SELECT j.created_at AS createdAt, j.id FROM jobs j ${whereText(where)} ${orderBy(s.dir)} LIMIT 1 OFFSET ?`;
  return prepareCached(sqlite, text).get(...core.args, ...s.bounds.flatMap((b) => b.args), k - 1) as
    | Position
    | undefined;
}

/**
 * Walking one job (an index probe, a random page, the match) costs about as much as scanning this many
 * `job_files` rows sequentially (measured on a 1M-job mirror: RE2 in JS dominates both sides for regexes).
 */
const WALK_COST = { regex: 6, contains: 20 };
/** Files per job, for the size of a job_files pass (generated and real requests carry one to a few). */
const FILES_PER_JOB = 1.3;
/** Driving from one index candidate (lookup, sort, the match) costs about this many walked jobs. */
const DRIVE_COST = { regex: 1.5, contains: 3 };
/** More jobs than this not yet in the filename index: use no index (the plan before it). */
const MAX_TAIL = 5 * FILENAME_INDEX_BATCH;
/** Fewer index candidates than this are taken at once, without walking the listing first. */
const DRIVE_NOW = 1000;

/**
 * The filename index's plan for these filters: its candidates as a driver, how many walked jobs driving
 * them costs, and whether that is cheap enough to do at once. Undefined when the filters require no literal
 * the index can look up (then the plan is the one without an index).
 */
function indexPlan(
  sqlite: Database.Database,
  f: JobFilters,
  total: number,
  perCandidate: number,
): { driver: Driver; cost: number; now: boolean } | undefined {
  const prepare = (sql: string) => prepareCached(sqlite, sql);
  const lookup = trigramLookup(sqlite, prepare, filenameQuery(f), total);
  if (!lookup) return undefined;
  const through = indexedThrough(prepare);
  const tail = Math.max(0, total - through);
  // A backfill is writing faster than the index follows: testing its jobs one by one would cost more.
  if (tail > MAX_TAIL) return undefined;
  const driver: Driver = { kind: 'trigram', match: lookup.match, through };
  // The sample sees no name that holds the lookup's trigrams: take the candidates without counting them.
  if (lookup.share * total < DRIVE_NOW / 4)
    return { driver, cost: (lookup.share * total + tail) * perCandidate, now: true };
  const counted = countCandidates(prepare, lookup, DRIVE_NOW);
  if (counted < DRIVE_NOW) return { driver, cost: (counted + tail) * perCandidate, now: true };
  const estimate = Math.max(DRIVE_NOW, lookup.share * total) + tail;
  return { driver, cost: estimate * perCandidate, now: false };
}

/** The first `want` matching rows in walking order, by the cheapest plan for these filters. */
function firstRows(
  sqlite: Database.Database,
  s: Select,
  want: number,
  firstWindow: number,
  useIndex: boolean,
): unknown[] {
  const driver = choosePlan(sqlite, s.filters, want);
  if (driver.kind !== 'scan' || !hasFileFilter(s.filters)) return run(sqlite, s, driver, want);
  // Few index candidates: take them. Otherwise walk the listing in doubling windows of candidates, each
  // starting where the last ended, until the walk has cost about as much as the cheaper of driving from the
  // index's candidates and one pass over job_files; then take that. Neither part exceeds what the better of
  // the two would cost alone, so a page costs at most ~2x the best plan, whatever the match rate.
  const total = approxJobCount(sqlite);
  const regex = s.filters.filename_regex !== undefined;
  let fallback: Driver = { kind: 'files' };
  let cap = Math.max(
    firstWindow,
    Math.ceil((total * FILES_PER_JOB) / (regex ? WALK_COST.regex : WALK_COST.contains)),
  );
  const index = useIndex
    ? indexPlan(sqlite, s.filters, total, regex ? DRIVE_COST.regex : DRIVE_COST.contains)
    : undefined;
  if (index?.now) return run(sqlite, s, index.driver, want);
  if (index && index.cost < cap)
    [fallback, cap] = [index.driver, Math.max(firstWindow, Math.ceil(index.cost))];
  const rows: unknown[] = [];
  let rest = s;
  for (
    let size = firstWindow, walked = 0;
    walked < cap;
    walked += size, size = Math.min(2 * size, cap - walked)
  ) {
    const end = kthCandidate(sqlite, rest, size);
    if (!end) return rows.concat(run(sqlite, rest, { kind: 'scan' }, want - rows.length));
    rows.push(...run(sqlite, rest, { kind: 'scan' }, want - rows.length, relative(end, s.dir, 'upTo')));
    if (rows.length >= want) return rows;
    rest = { ...s, bounds: [relative(end, s.dir, 'beyond')] };
  }
  return rows.concat(run(sqlite, rest, fallback, want - rows.length));
}

// ---- public API

export interface QueryJobsOptions {
  /** Candidates in the first window of a filename-filtered walk (tuning; tests shrink it). @default 1000 */
  walkWindow?: number;
  /** Use the filename index (benchmarks and tests turn it off to compare with the plan without it). @default true */
  useFilenameIndex?: boolean;
}

/**
 * One page of `GET /v1/jobs` from the mirror.
 * @throws InvalidCursorError when `before`/`after` names no mirrored job.
 */
export function queryJobs(
  mirror: Pick<Mirror, 'sqlite'>,
  params: NormalizedListParams,
  opts: QueryJobsOptions = {},
): JobList {
  const { sqlite } = mirror;
  registerQueryFunctions(sqlite);
  const backward = params.before !== undefined;
  // Walking backward means reading the listing in reverse from the cursor, then flipping the page.
  const dir: Dir = backward ? (params.order === 'asc' ? 'desc' : 'asc') : params.order;
  const cursorId = params.before ?? params.after;
  const bounds =
    cursorId === undefined
      ? []
      : [relative(cursorPosition(sqlite, backward ? 'before' : 'after', cursorId), dir, 'beyond')];
  const cols = columns(params.include_request, params.include_response);
  const rows = firstRows(
    sqlite,
    { filters: params, dir, cols, bounds },
    params.limit + 1,
    opts.walkWindow ?? 1000,
    opts.useFilenameIndex ?? true,
  );
  const hasMore = rows.length > params.limit;
  const page = rows.slice(0, params.limit);
  // `list_metadata` also says whether matches lie behind the page (only a cursor can leave any). The cursor
  // usually comes from this same query, so it matches itself: a one-row check; else one probe for a single
  // row from the page's first row (in walking order) the other way.
  let hasBehind = false;
  const head = page[0] as JobRow | undefined;
  if (cursorId !== undefined && head !== undefined) {
    const back: Dir = dir === 'asc' ? 'desc' : 'asc';
    const probe = (bound: Bound) =>
      firstRows(
        sqlite,
        { filters: params, dir: back, cols: 'j.id', bounds: [bound] },
        1,
        opts.walkWindow ?? 1000,
        opts.useFilenameIndex ?? true,
      ).length > 0;
    hasBehind =
      probe({ where: ['j.id = ?'], args: [cursorId] }) ||
      probe(relative({ createdAt: head.createdAt, id: head.id }, back, 'beyond'));
  }
  if (backward) page.reverse();
  const data = page.map((r) => toJob(r, params));
  return supersetList(data, { hasMore, hasBehind, backward });
}

/**
 * The driver for reading every match of `f` (streams, stats): the plan of `choosePlan`, or, for a selective
 * filename filter, its few index candidates instead of testing every job's names.
 */
export function everyMatchDriver(sqlite: Database.Database, f: JobFilters): Driver {
  const driver = choosePlan(sqlite, f, Number.POSITIVE_INFINITY);
  if (driver.kind !== 'scan' || f.id !== undefined || !hasFileFilter(f)) return driver;
  const index = indexPlan(sqlite, f, approxJobCount(sqlite), 1);
  return index?.now ? index.driver : driver;
}

/**
 * Every matching job in listing order, streamed from one statement (constant memory unless a rare
 * side-table filter drives the query, when only its matches are sorted): for exports and `jobs list --all`.
 * The connection is busy until the iterator finishes or is returned.
 * @throws InvalidCursorError when `after` names no mirrored job.
 */
export function* iterateJobs(mirror: Pick<Mirror, 'sqlite'>, params: IterateParams): Generator<Job> {
  const { sqlite } = mirror;
  registerQueryFunctions(sqlite);
  const dir = params.order ?? 'desc';
  const bounds =
    params.after === undefined
      ? []
      : [relative(cursorPosition(sqlite, 'after', params.after), dir, 'beyond')];
  const q = buildQuery(params, everyMatchDriver(sqlite, params));
  const where = [...q.where, ...bounds.flatMap((b) => b.where)];
  const cols = columns(params.include_request === true, params.include_response === true);
  const text = `SELECT ${cols} FROM ${q.from} ${whereText(where)} ${orderBy(dir)}`;
  // A fresh statement: a cached one could be wanted by another query while this iterator is open.
  for (const row of sqlite.prepare(text).iterate(...q.args, ...bounds.flatMap((b) => b.args))) {
    yield toJob(row, params);
  }
}

/** `GET /v1/jobs/{id}` from the mirror; undefined when the mirror has no such job. */
export function getJob(mirror: Pick<Mirror, 'sqlite'>, id: string, inc: IncludeFlags = {}): Job | undefined {
  const text = `SELECT ${columns(inc.include_request === true, inc.include_response === true)} FROM jobs j WHERE j.id = ?`;
  const row = prepareCached(mirror.sqlite, text).get(id);
  return row === undefined ? undefined : toJob(row, inc);
}
