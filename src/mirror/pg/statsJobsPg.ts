/**
 * Aggregates over the PostgreSQL mirror: the same result as ../statsJobs.ts, computed by the server instead
 * of streaming every row to Node. Nearest-rank percentiles are `percentile_disc` (the first value whose
 * position reaches the fraction: rank ⌈p·n⌉, as `nearestRank`); the totals row is the empty grouping set.
 *
 * With a filename filter, the jobs are first selected the way queryJobsPg selects them (literals narrow in
 * SQL, RE2 / JavaScript folding judge), and the aggregates then run over those jobs' seqs.
 */
import type pg from 'pg';
import { utcDay } from '../../retab/index.ts';
import type { JobFilters } from '../buildWhere.ts';
import type { StatsGroupBy } from '../statsGroupBy.ts';
import {
  type StatsOptions,
  type StatsResult,
  type StatsRow,
  statsRow,
  type ThroughputDay,
} from '../statsJobs.ts';
import { inReadOnlySnapshot } from './transaction.ts';
import { exactTest, filterSql, Sql } from './whereSql.ts';

const KEY_EXPR: Record<StatsGroupBy, string> = {
  status: 'j.status',
  endpoint: 'j.endpoint',
  model: 'j.model',
  source: 'j.source',
  day: `to_char(to_timestamp(j.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  error_code: 'j.error_code',
  last_failure_code: 'j.last_failure_code',
  attempts: 'j.attempt_count::text',
};

const FINISHED = `j.status IN ('completed', 'failed')`;
const PCTS = 'ARRAY[0.5, 0.95, 0.99]';

interface AggRow {
  k: string | null;
  total: boolean;
  count: number;
  completed: number;
  failed: number;
  d: number[] | null;
  w: number[] | null;
}

/** `PCTS` is `PERCENTILES` of ../statsJobs.ts as fractions, so `d`/`w` come in `statsRow`'s order. */
const toStatsRow = (r: AggRow, key: string | null): StatsRow => statsRow(key, r, r.d ?? [], r.w ?? []);

const EMPTY: AggRow = { k: null, total: true, count: 0, completed: 0, failed: 0, d: null, w: null };

/** The WHERE of the selection: SQL filters, or the seqs of the jobs the exact filename test kept. */
async function selection(c: pg.PoolClient, f: JobFilters): Promise<(s: Sql) => string> {
  const test = exactTest(f);
  if (!test) {
    return (s) => {
      const where = filterSql(f, s);
      return where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    };
  }
  const s = new Sql();
  const where = filterSql(f, s);
  const r = await c.query<{ seq: number; names: string[] }>(
    `SELECT j.seq, ARRAY(SELECT f.filename FROM job_files f WHERE f.job_seq = j.seq) AS names FROM jobs j
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}`,
    s.args,
  );
  const seqs = r.rows.filter((row) => test(row.names)).map((row) => row.seq);
  return (s2) => `WHERE j.seq = ANY(${s2.arg(seqs, '::bigint[]')})`;
}

export interface StatsJobsPgOptions {
  /** Server-side limit of each statement, ms. @default 30000 */
  statementTimeoutMs?: number;
}

/** `retab-mirror stats` on PostgreSQL: see ../statsJobs.ts for the result's meaning. */
export async function statsJobsPg(
  pool: pg.Pool,
  opts: StatsOptions,
  pgOpts: StatsJobsPgOptions = {},
): Promise<StatsResult> {
  const filters: JobFilters = { ...opts.filters };
  if (opts.from !== undefined) filters.from_date = opts.from;
  if (opts.to !== undefined) filters.to_date = opts.to;
  return inReadOnlySnapshot(pool, pgOpts.statementTimeoutMs ?? 30_000, async (c) => {
    const where = await selection(c, filters);
    const s = new Sql();
    const cond = where(s);
    const agg = await c.query<AggRow>(
      `SELECT ${KEY_EXPR[opts.groupBy]} AS k, grouping(${KEY_EXPR[opts.groupBy]}) = 1 AS total, count(*) AS count,
        count(*) FILTER (WHERE j.status = 'completed') AS completed,
        count(*) FILTER (WHERE j.status = 'failed') AS failed,
        (percentile_disc(${PCTS}) WITHIN GROUP (ORDER BY j.completed_at - j.started_at)
          FILTER (WHERE j.started_at IS NOT NULL AND j.completed_at IS NOT NULL AND ${FINISHED}))::float8[] AS d,
        (percentile_disc(${PCTS}) WITHIN GROUP (ORDER BY j.started_at - j.created_at)
          FILTER (WHERE j.started_at IS NOT NULL))::float8[] AS w
       FROM jobs j ${cond}
       GROUP BY GROUPING SETS ((${KEY_EXPR[opts.groupBy]}), ())`,
      s.args,
    );
    const s2 = new Sql();
    const cond2 = where(s2);
    const days = await c.query<{ n: number; created: number; completed: number; failed: number }>(
      `SELECT n, sum(created)::bigint AS created, sum(completed)::bigint AS completed, sum(failed)::bigint AS failed
       FROM (
         SELECT floor(j.created_at / 86400.0)::bigint AS n, 1 AS created, 0 AS completed, 0 AS failed FROM jobs j ${cond2}
         UNION ALL
         SELECT floor(j.completed_at / 86400.0)::bigint, 0, (j.status = 'completed')::int, (j.status = 'failed')::int
         FROM jobs j ${cond2 === '' ? 'WHERE' : `${cond2} AND`} j.completed_at IS NOT NULL AND ${FINISHED}
       ) AS t GROUP BY n`,
      s2.args,
    );
    const rows = agg.rows.filter((r) => !r.total).map((r) => toStatsRow(r, r.k));
    // The same order as SQLite's statsJobs.
    if (opts.groupBy === 'day') rows.sort((a, b) => String(a.key).localeCompare(String(b.key)));
    else rows.sort((a, b) => b.count - a.count || String(a.key).localeCompare(String(b.key)));
    const throughput: ThroughputDay[] = days.rows
      .map((d) => ({
        day: utcDay(d.n * 86_400),
        created: d.created,
        completed: d.completed,
        failed: d.failed,
      }))
      .sort((a, b) => a.day.localeCompare(b.day));
    return {
      groupBy: opts.groupBy,
      from: filters.from_date ?? null,
      to: filters.to_date ?? null,
      rows,
      totals: toStatsRow(agg.rows.find((r) => r.total) ?? EMPTY, 'total'),
      throughput,
    };
  });
}
