/** The read helpers the sync needs (watermark, known ids, stale active jobs, payloads to hydrate, counts). */
import { eq } from 'drizzle-orm';
import { ACTIVE_STATUSES, JOB_STATUSES, type JobStatus } from '../retab/index.ts';
import type { Mirror } from './openMirror.ts';
import { prepared } from './prepared.ts';
import type { JobRow } from './rowToJob.ts';
import { jobs } from './schema.ts';
import type { MissingPayloadOptions, StaleActiveJob, StaleActiveOptions } from './store.ts';

export type { MissingPayloadOptions, StaleActiveJob, StaleActiveOptions } from './store.ts';

/** json_each keeps one bound parameter per chunk; chunks bound memory for very large id lists. */
const ID_CHUNK = 10_000;

/** The sync watermark: the newest `created_at` (unix s) mirrored, or null when the mirror is empty. */
export function latestCreatedAt(mirror: Mirror): number | null {
  const row = prepared(mirror, 'SELECT max(created_at) AS m FROM jobs').get() as { m: number | null };
  return row.m;
}

/** The subset of `ids` the mirror already holds. */
export function knownIds(mirror: Mirror, ids: Iterable<string>): Set<string> {
  const all = [...ids];
  const known = new Set<string>();
  const stmt = prepared(mirror, 'SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each(?))').pluck();
  for (let i = 0; i < all.length; i += ID_CHUNK) {
    for (const id of stmt.all(JSON.stringify(all.slice(i, i + ID_CHUNK))) as string[]) known.add(id);
  }
  return known;
}

/**
 * Jobs still stored with an active status that a sweep did not see (last seen before `notSeenSince`) and
 * that upstream has not already answered 404 for: they moved on and must be resolved one by one or by day.
 */
export function staleActiveJobs(mirror: Mirror, opts: StaleActiveOptions): StaleActiveJob[] {
  const statuses = opts.statuses ?? ACTIVE_STATUSES;
  if (statuses.length === 0) return [];
  return prepared(
    mirror,
    `SELECT id, status, created_at AS createdAt FROM jobs
     WHERE status IN (SELECT value FROM json_each(?)) AND last_seen_at < ? AND upstream_missing_at IS NULL
     ORDER BY created_at, id`,
  ).all(JSON.stringify(statuses), opts.notSeenSince) as StaleActiveJob[];
}

/**
 * Ids of jobs whose payload is not mirrored yet, newest first (the ones upstream still certainly has),
 * skipping jobs upstream already answered 404 for.
 */
export function jobsMissingPayload(mirror: Mirror, opts: MissingPayloadOptions): string[] {
  const sql =
    opts.kind === 'request'
      ? `SELECT id FROM jobs WHERE has_request = 0 AND upstream_missing_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT ?`
      : `SELECT id FROM jobs WHERE status = 'completed' AND has_response = 0 AND upstream_missing_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT ?`;
  return prepared(mirror, sql)
    .pluck()
    .all(opts.limit ?? 100) as string[];
}

export function countJobs(mirror: Mirror): number {
  return (prepared(mirror, 'SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
}

/** Jobs per status; every status is present (0 when none). */
export function countByStatus(mirror: Mirror): Record<JobStatus, number> {
  const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  const rows = prepared(mirror, 'SELECT status, count(*) AS n FROM jobs GROUP BY status').all() as {
    status: JobStatus;
    n: number;
  }[];
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}

/** One stored job row (turn it into the wire shape with `rowToJob`; `queryJobs.getJob` gives the wire shape). */
export function getJobRow(mirror: Mirror, id: string): JobRow | undefined {
  return mirror.db.select().from(jobs).where(eq(jobs.id, id)).get();
}
