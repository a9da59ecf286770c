/**
 * SQLite side of `MirrorStore.views` and of the few reads beside it: the SQL of the server's health and
 * metrics, `status`, the console's Sync, Alerts and job pages, its aggregate index, and the demo's live view.
 * The views outside src/mirror/ shape and format what these return. Each read is an index range read or a
 * small aggregate over the run log, bounded by a limit.
 */
import type Database from 'better-sqlite3';
import type { Mirror } from '../openMirror.ts';
import type {
  DeadLetterBrief,
  JobColumnsRow,
  JobTrace,
  MetricsSnapshot,
  PartitionBrief,
  RunBrief,
  SyncRunRow,
} from '../store.ts';
import {
  JOB_BRIEF_COLUMNS,
  type QuarantineBrief,
  RUN_BRIEF_COLUMNS,
  type RunBriefRow,
  runColumns,
  toRunBrief,
} from '../viewRows.ts';
import { readJobEvents } from './outbox.ts';

type Handle = Pick<Mirror, 'sqlite'>;

const all = <T>(sqlite: Database.Database, sql: string, ...args: unknown[]) =>
  sqlite.prepare(sql).all(...args) as T[];

export function lastSuccessAt(m: Handle, task?: string): number | null {
  const row = (
    task === undefined
      ? m.sqlite.prepare("SELECT max(finished_at) AS t FROM sync_runs WHERE outcome = 'success'").get()
      : m.sqlite
          .prepare("SELECT max(finished_at) AS t FROM sync_runs WHERE task = ? AND outcome = 'success'")
          .get(task)
  ) as { t: number | null };
  return row.t;
}

export function requestsSince(m: Handle, sinceMs: number): number {
  return (
    m.sqlite
      .prepare('SELECT coalesce(sum(requests), 0) AS n FROM sync_runs WHERE finished_at >= ?')
      .get(sinceMs) as { n: number }
  ).n;
}

export function metricsSnapshot(m: Handle): MetricsSnapshot {
  const s = m.sqlite;
  return {
    jobsByStatus: all(s, 'SELECT status, count(*) AS n FROM jobs GROUP BY status'),
    lastSuccessAt: lastSuccessAt(m),
    upstreamRequests: all<{ v: number | null }>(s, 'SELECT sum(requests) AS v FROM sync_runs')[0]?.v ?? 0,
    upstreamResponses: all(
      s,
      `SELECT s.key AS status, sum(s.value) AS n FROM sync_runs r, json_each(r.upstream_statuses) s
       WHERE r.upstream_statuses IS NOT NULL GROUP BY s.key`,
    ),
    quarantined: all<{ v: number | null }>(s, 'SELECT sum(quarantined) AS v FROM sync_runs')[0]?.v ?? 0,
    eventsByType: all(s, 'SELECT type, count(*) AS n FROM job_events GROUP BY type'),
    runsByOutcome: all(s, 'SELECT task, outcome, count(*) AS n FROM sync_runs GROUP BY task, outcome'),
    runMsByTask: all<{ task: string; ms: number | null }>(
      s,
      'SELECT task, sum(finished_at - started_at) AS ms FROM sync_runs WHERE finished_at IS NOT NULL GROUP BY task',
    ).map((r) => ({ task: r.task, ms: r.ms ?? 0 })),
    lastRunMsByTask: all(
      s,
      `SELECT r.task, r.finished_at - r.started_at AS ms FROM sync_runs r JOIN
         (SELECT max(id) AS id FROM sync_runs WHERE finished_at IS NOT NULL GROUP BY task) l ON r.id = l.id`,
    ),
    maxSeq: all<{ m: number | null }>(s, 'SELECT max(seq) AS m FROM job_events')[0]?.m ?? 0,
  };
}

const RUN_COLUMNS = runColumns((a) => a);

/** The latest run of every partition, by partition. */
export function latestPerPartition(m: Handle): SyncRunRow[] {
  return all(
    m.sqlite,
    `SELECT ${RUN_COLUMNS} FROM sync_runs r
     JOIN (SELECT partition, MAX(id) AS id FROM sync_runs GROUP BY partition) m ON r.id = m.id
     ORDER BY r.partition`,
  );
}

export function partitions(m: Handle, limit: number): PartitionBrief[] {
  return all(
    m.sqlite,
    `SELECT partition, status, last_success_at AS lastSuccessAt, last_error AS lastError FROM sync_state
     ORDER BY (partition LIKE 'window:%'), partition DESC LIMIT ?`,
    limit,
  );
}

export function runsOf(m: Handle, partition: string, limit: number): RunBrief[] {
  return all<RunBriefRow>(
    m.sqlite,
    `SELECT ${RUN_BRIEF_COLUMNS} FROM sync_runs WHERE partition = ? ORDER BY id DESC LIMIT ?`,
    partition,
    limit,
  ).map(toRunBrief);
}

/** Newest first by id (ids follow start times): stops at the first run started before `sinceMs`. */
export function upstreamStatusesSince(m: Handle, sinceMs: number): [number, string | null][] {
  const out: [number, string | null][] = [];
  const rows = m.sqlite
    .prepare('SELECT started_at, upstream_statuses FROM sync_runs ORDER BY id DESC')
    .raw(true)
    .iterate() as IterableIterator<[number, string | null]>;
  for (const row of rows) {
    if (row[0] < sinceMs) break;
    out.push(row);
  }
  return out;
}

export function recentQuarantine(m: Handle, limit: number) {
  return all<QuarantineBrief>(
    m.sqlite,
    `SELECT id, job_id AS jobId, partition, reason, observed_at AS observedAt FROM quarantine
     ORDER BY id DESC LIMIT ?`,
    limit,
  );
}

export function deadLetterBriefs(m: Handle, limit: number): DeadLetterBrief[] {
  return all(
    m.sqlite,
    `SELECT d.id, d.sink, d.seq, d.event_id AS eventId, e.job_id AS jobId, d.attempts, d.last_error AS lastError,
            d.failed_at AS failedAt, d.resolved_at AS resolvedAt
     FROM event_dead_letters d LEFT JOIN job_events e ON e.seq = d.seq
     ORDER BY (d.resolved_at IS NOT NULL), d.id DESC LIMIT ?`,
    limit,
  );
}

export function jobTrace(m: Handle, jobId: string): JobTrace | undefined {
  const job = m.sqlite
    .prepare(
      `SELECT length(request) AS requestBytes, length(response) AS responseBytes, first_seen_at AS firstSeenAt,
              last_seen_at AS lastSeenAt, upstream_missing_at AS upstreamMissingAt FROM jobs WHERE id = ?`,
    )
    .get(jobId) as Omit<JobTrace, 'events'> | undefined;
  if (!job) return undefined;
  return { ...job, events: readJobEvents(m, jobId) };
}

export function metadataSeqs(m: Handle, key: string, value: string): number[] {
  // all() crosses into SQLite once per statement; iterate() once per row (several times slower here).
  return m.sqlite
    .prepare('SELECT job_seq FROM job_metadata WHERE key = ? AND value = ?')
    .pluck(true)
    .all(key, value) as number[];
}

const JOB_COLUMNS = JOB_BRIEF_COLUMNS;

export function jobColumnsAfter(m: Handle, afterSeq: number, limit?: number): JobColumnsRow[] {
  const stmt =
    limit === undefined
      ? m.sqlite.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq > ? ORDER BY seq`).raw(true)
      : m.sqlite.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq > ? ORDER BY seq LIMIT ?`).raw(true);
  return (limit === undefined ? stmt.all(afterSeq) : stmt.all(afterSeq, limit)) as JobColumnsRow[];
}

export function jobColumnsOf(m: Handle, ids: readonly string[]): JobColumnsRow[] {
  const out: JobColumnsRow[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    const rows = m.sqlite
      .prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id IN (${part.map(() => '?').join(', ')})`)
      .raw(true)
      .all(...part) as JobColumnsRow[];
    out.push(...rows);
  }
  return out;
}

export function eventJobIdsAfter(m: Handle, afterSeq: number): [number, string][] {
  return m.sqlite
    .prepare('SELECT seq, job_id FROM job_events WHERE seq > ? ORDER BY seq')
    .raw(true)
    .all(afterSeq) as [number, string][];
}

export function anyMetadataValue(m: Handle, key: string): string | undefined {
  const row = m.sqlite.prepare('SELECT value FROM job_metadata WHERE key = ? LIMIT 1').get(key) as
    | { value: string }
    | undefined;
  return row?.value;
}
