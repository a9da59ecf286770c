/**
 * PostgreSQL side of `MirrorStore.views` and of the few reads beside it: the same SQL as ../sqlite/views.ts,
 * ported one statement each, so the server's health and metrics, `status`, the console and the demo's live
 * view answer alike on both stores. Where the dialects differ:
 * - Sums of `bigint` columns are `numeric` on PostgreSQL (read back as strings by node-postgres): cast to
 *   `bigint`, which the pool reads as a JS number (openPgMirror.ts).
 * - `json_each` over `upstream_statuses` is `jsonb_each_text` (values summed as bigint).
 * - Text order is bytewise, as SQLite's: `COLLATE "C"` where the column is not already declared so.
 * - SQLite sorts NULLs lowest (last in DESC); here every `ORDER BY` that meets a NULL says where.
 */
import type pg from 'pg';
import type * as store from '../store.ts';
import * as shared from '../viewRows.ts';
import { readJobEventsPg } from './outboxPg.ts';

async function rows<T>(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await pool.query(sql, params)).rows as T[];
}

async function arrays<T>(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await pool.query({ text: sql, values: params, rowMode: 'array' })).rows as T[];
}

export async function lastSuccessAtPg(pool: pg.Pool, task?: string): Promise<number | null> {
  const r =
    task === undefined
      ? await rows<{ t: number | null }>(
          pool,
          "SELECT max(finished_at) AS t FROM sync_runs WHERE outcome = 'success'",
        )
      : await rows<{ t: number | null }>(
          pool,
          "SELECT max(finished_at) AS t FROM sync_runs WHERE task = $1 AND outcome = 'success'",
          [task],
        );
  return r[0]?.t ?? null;
}

export async function requestsSincePg(pool: pg.Pool, sinceMs: number): Promise<number> {
  const r = await rows<{ n: number }>(
    pool,
    'SELECT coalesce(sum(requests), 0)::bigint AS n FROM sync_runs WHERE finished_at >= $1',
    [sinceMs],
  );
  return r[0]?.n ?? 0;
}

export async function metricsSnapshotPg(pool: pg.Pool): Promise<store.MetricsSnapshot> {
  const one = async (sql: string) => (await rows<{ v: number | null }>(pool, sql))[0]?.v ?? 0;
  return {
    jobsByStatus: await rows(pool, 'SELECT status, count(*) AS n FROM jobs GROUP BY status'),
    lastSuccessAt: await lastSuccessAtPg(pool),
    upstreamRequests: await one('SELECT sum(requests)::bigint AS v FROM sync_runs'),
    upstreamResponses: await rows(
      pool,
      `SELECT s.key AS status, sum(s.value::bigint)::bigint AS n
       FROM sync_runs r, jsonb_each_text(r.upstream_statuses::jsonb) s
       WHERE r.upstream_statuses IS NOT NULL GROUP BY s.key`,
    ),
    quarantined: await one('SELECT sum(quarantined)::bigint AS v FROM sync_runs'),
    eventsByType: await rows(pool, 'SELECT type, count(*) AS n FROM job_events GROUP BY type'),
    runsByOutcome: await rows(
      pool,
      'SELECT task, outcome, count(*) AS n FROM sync_runs GROUP BY task, outcome',
    ),
    runMsByTask: (
      await rows<{ task: string; ms: number | null }>(
        pool,
        `SELECT task, sum(finished_at - started_at)::bigint AS ms FROM sync_runs
         WHERE finished_at IS NOT NULL GROUP BY task`,
      )
    ).map((r) => ({ task: r.task, ms: r.ms ?? 0 })),
    lastRunMsByTask: await rows(
      pool,
      `SELECT r.task, r.finished_at - r.started_at AS ms FROM sync_runs r JOIN
         (SELECT max(id) AS id FROM sync_runs WHERE finished_at IS NOT NULL GROUP BY task) l ON r.id = l.id`,
    ),
    maxSeq: await one('SELECT max(seq) AS v FROM job_events'),
  };
}

const RUN_COLUMNS = shared.runColumns((a) => `"${a}"`);

/** The latest run of every partition, by partition (bytewise). */
export function latestPerPartitionPg(pool: pg.Pool): Promise<store.SyncRunRow[]> {
  return rows(
    pool,
    `SELECT ${RUN_COLUMNS} FROM sync_runs r
     JOIN (SELECT partition, max(id) AS id FROM sync_runs GROUP BY partition) m ON r.id = m.id
     ORDER BY r.partition COLLATE "C"`,
  );
}

export function partitionsPg(pool: pg.Pool, limit: number): Promise<store.PartitionBrief[]> {
  return rows(
    pool,
    `SELECT partition, status, last_success_at AS "lastSuccessAt", last_error AS "lastError" FROM sync_state
     ORDER BY (partition LIKE 'window:%'), partition COLLATE "C" DESC LIMIT $1`,
    [limit],
  );
}

export async function runsOfPg(pool: pg.Pool, partition: string, limit: number): Promise<store.RunBrief[]> {
  const r = await rows<shared.RunBriefRow>(
    pool,
    `SELECT ${shared.RUN_BRIEF_COLUMNS} FROM sync_runs WHERE partition = $1 ORDER BY id DESC LIMIT $2`,
    [partition, limit],
  );
  return r.map(shared.toRunBrief);
}

/**
 * Newest first by id (ids follow start times), up to the first run started before `sinceMs`: SQLite stops
 * its scan there; here the same cut is a bound on the id (the newest run started before `sinceMs`).
 */
export function upstreamStatusesSincePg(pool: pg.Pool, sinceMs: number): Promise<[number, string | null][]> {
  return arrays(
    pool,
    `SELECT started_at, upstream_statuses FROM sync_runs
     WHERE id > coalesce((SELECT max(id) FROM sync_runs WHERE started_at < $1), 0)
     ORDER BY id DESC`,
    [sinceMs],
  );
}

export function recentQuarantinePg(pool: pg.Pool, limit: number) {
  return rows<shared.QuarantineBrief>(
    pool,
    `SELECT id, job_id AS "jobId", partition, reason, observed_at AS "observedAt" FROM quarantine
     ORDER BY id DESC LIMIT $1`,
    [limit],
  );
}

export function deadLetterBriefsPg(pool: pg.Pool, limit: number): Promise<store.DeadLetterBrief[]> {
  return rows(
    pool,
    `SELECT d.id, d.sink, d.seq, d.event_id AS "eventId", e.job_id AS "jobId", d.attempts,
            d.last_error AS "lastError", d.failed_at AS "failedAt", d.resolved_at AS "resolvedAt"
     FROM event_dead_letters d LEFT JOIN job_events e ON e.seq = d.seq
     ORDER BY (d.resolved_at IS NOT NULL), d.id DESC LIMIT $1`,
    [limit],
  );
}

/** Payload sizes are `length()` of the JSON text, in characters, as SQLite's `length()` counts them. */
export async function jobTracePg(pool: pg.Pool, jobId: string): Promise<store.JobTrace | undefined> {
  const [job] = await rows<Omit<store.JobTrace, 'events'>>(
    pool,
    `SELECT length(request) AS "requestBytes", length(response) AS "responseBytes",
            first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt",
            upstream_missing_at AS "upstreamMissingAt" FROM jobs WHERE id = $1`,
    [jobId],
  );
  if (!job) return undefined;
  return { ...job, events: await readJobEventsPg(pool, jobId) };
}

export async function metadataSeqsPg(pool: pg.Pool, key: string, value: string): Promise<number[]> {
  const r = await arrays<[number]>(pool, 'SELECT job_seq FROM job_metadata WHERE key = $1 AND value = $2', [
    key,
    value,
  ]);
  return r.map((x) => x[0]);
}

const JOB_COLUMNS = shared.JOB_BRIEF_COLUMNS;

export function jobColumnsAfterPg(
  pool: pg.Pool,
  afterSeq: number,
  limit?: number,
): Promise<store.JobColumnsRow[]> {
  return limit === undefined
    ? arrays(pool, `SELECT ${JOB_COLUMNS} FROM jobs WHERE seq > $1 ORDER BY seq`, [afterSeq])
    : arrays(pool, `SELECT ${JOB_COLUMNS} FROM jobs WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit]);
}

export function jobColumnsOfPg(pool: pg.Pool, ids: readonly string[]): Promise<store.JobColumnsRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return arrays(pool, `SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ANY($1::text[])`, [ids]);
}

export function eventJobIdsAfterPg(pool: pg.Pool, afterSeq: number): Promise<[number, string][]> {
  return arrays(pool, 'SELECT seq, job_id FROM job_events WHERE seq > $1 ORDER BY seq', [afterSeq]);
}

export async function anyMetadataValuePg(pool: pg.Pool, key: string): Promise<string | undefined> {
  const [row] = await rows<{ value: string }>(pool, 'SELECT value FROM job_metadata WHERE key = $1 LIMIT 1', [
    key,
  ]);
  return row?.value;
}

/** Jobs with `fromS <= created_at < toS` (unix s). */
export async function countCreatedBetweenPg(pool: pg.Pool, fromS: number, toS: number): Promise<number> {
  const [row] = await rows<{ n: number }>(
    pool,
    'SELECT count(*) AS n FROM jobs WHERE created_at >= $1 AND created_at < $2',
    [fromS, toS],
  );
  return row?.n ?? 0;
}

/** `created_at` (unix s) of those of `ids` the mirror holds. */
export function createdAtOfPg(
  pool: pg.Pool,
  ids: readonly string[],
): Promise<{ id: string; createdAt: number }[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return rows(pool, 'SELECT id, created_at AS "createdAt" FROM jobs WHERE id = ANY($1::text[])', [ids]);
}

/** The ids among `ids` lacking a payload `want`ed (see ../payloadGaps.ts), in the order given. */
export async function payloadGapsPg(
  pool: pg.Pool,
  ids: readonly string[],
  want: { request: boolean; response: boolean },
): Promise<string[]> {
  if (ids.length === 0 || (!want.request && !want.response)) return [];
  const r = await rows<{ id: string }>(
    pool,
    `SELECT id FROM jobs WHERE id = ANY($1::text[])
       AND (($2::boolean AND NOT has_request) OR ($3::boolean AND status = 'completed' AND NOT has_response))`,
    [ids, want.request, want.response],
  );
  const gaps = new Set(r.map((x) => x.id));
  return ids.filter((id) => gaps.has(id));
}
