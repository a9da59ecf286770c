/** The sync's read helpers on PostgreSQL: the same answers as ../reads.ts (see there for each one's use). */
import type pg from 'pg';
import { ACTIVE_STATUSES, JOB_STATUSES, type JobStatus } from '../../retab/index.ts';
import type { MissingPayloadOptions, StaleActiveJob, StaleActiveOptions } from '../reads.ts';
import type { JobRow } from '../rowToJob.ts';
import { PG_JOB_ROW_COLUMNS } from './jobColumnsPg.ts';

export async function latestCreatedAtPg(pool: pg.Pool): Promise<number | null> {
  const r = await pool.query<{ m: number | null }>('SELECT max(created_at) AS m FROM jobs');
  return r.rows[0]?.m ?? null;
}

/** The subset of `ids` the mirror already holds. */
export async function knownIdsPg(pool: pg.Pool, ids: Iterable<string>): Promise<Set<string>> {
  const all = [...ids];
  if (all.length === 0) return new Set();
  const r = await pool.query<{ id: string }>('SELECT id FROM jobs WHERE id = ANY($1::text[])', [all]);
  return new Set(r.rows.map((x) => x.id));
}

export async function staleActiveJobsPg(pool: pg.Pool, opts: StaleActiveOptions): Promise<StaleActiveJob[]> {
  const statuses = opts.statuses ?? ACTIVE_STATUSES;
  if (statuses.length === 0) return [];
  const r = await pool.query<StaleActiveJob>(
    `SELECT id, status, created_at AS "createdAt" FROM jobs
     WHERE status = ANY($1::text[]) AND last_seen_at < $2 AND upstream_missing_at IS NULL
     ORDER BY created_at, id`,
    [statuses, opts.notSeenSince],
  );
  return r.rows;
}

export async function jobsMissingPayloadPg(pool: pg.Pool, opts: MissingPayloadOptions): Promise<string[]> {
  const sql =
    opts.kind === 'request'
      ? `SELECT id FROM jobs WHERE NOT has_request AND upstream_missing_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT $1`
      : `SELECT id FROM jobs WHERE status = 'completed' AND NOT has_response AND upstream_missing_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT $1`;
  const r = await pool.query<{ id: string }>(sql, [opts.limit ?? 100]);
  return r.rows.map((x) => x.id);
}

export async function countJobsPg(pool: pg.Pool): Promise<number> {
  const r = await pool.query<{ n: number }>('SELECT count(*) AS n FROM jobs');
  return r.rows[0]?.n ?? 0;
}

/** Jobs per status; every status is present (0 when none). */
export async function countByStatusPg(pool: pg.Pool): Promise<Record<JobStatus, number>> {
  const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  const r = await pool.query<{ status: JobStatus; n: number }>(
    'SELECT status, count(*) AS n FROM jobs GROUP BY status',
  );
  for (const row of r.rows) counts[row.status] = row.n;
  return counts;
}

/** One stored job row, as ../reads.ts `getJobRow` returns it. */
export async function getJobRowPg(pool: pg.Pool, id: string): Promise<JobRow | undefined> {
  const r = await pool.query<JobRow>(`SELECT ${PG_JOB_ROW_COLUMNS} FROM jobs WHERE id = $1`, [id]);
  return r.rows[0];
}
