/**
 * The mirror's tables (drizzle, sqlite-core). Migrations are generated from this file by
 * `npm run db:generate` into `drizzle/` and committed.
 *
 * Time units: upstream job timestamps (`created_at`, …) stay in unix **seconds** as the API sends them;
 * the mirror's own bookkeeping (`observed_at`, `first_seen_at`, …) is unix **milliseconds**.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const jobs = sqliteTable(
  'jobs',
  {
    /**
     * The rowid, in the order the mirror first saw each job. `job_files` and `job_metadata` are keyed by it, so
     * a page of new jobs appends to their indexes instead of writing at random places (job ids are random).
     */
    seq: integer('seq').primaryKey(),
    id: text('id').notNull().unique(),
    status: text('status').notNull(),
    endpoint: text('endpoint').notNull(),
    source: text('source').notNull(),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    completedAt: integer('completed_at'),
    expiresAt: integer('expires_at').notNull(),
    organizationId: text('organization_id').notNull(),
    projectId: text('project_id'),
    workflowId: text('workflow_id'),
    workflowNodeId: text('workflow_node_id'),
    model: text('model'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /** JSON text; null when the job has none. */
    metadata: text('metadata'),
    /** JSON text; null while unknown (`has_request = 0`), never erased by a lightweight listing. */
    request: text('request'),
    response: text('response'),
    error: text('error'),
    /**
     * Unknown extra fields of the upstream item, as JSON, so nothing the API sends is lost. `warnings` and
     * `cancelled` (Job fields since May 2026) live here too: nothing filters on them.
     */
    extra: text('extra'),
    /** Execution attempts upstream reports (`attempt_count`); null when upstream did not send it. */
    attemptCount: integer('attempt_count'),
    /** The code of the job's last failed attempt (`last_failure_code`), kept across retries. */
    lastFailureCode: text('last_failure_code'),
    /** Unix s: when the latest attempt started (`last_attempt_at`); the merge rule's second retry counter. */
    lastAttemptAt: integer('last_attempt_at'),
    /** The request is known: stored in `request`, or upstream answered `include_request` with none. */
    hasRequest: integer('has_request', { mode: 'boolean' }).notNull().default(false),
    /** The same for the response (a completed job's). */
    hasResponse: integer('has_response', { mode: 'boolean' }).notNull().default(false),
    firstSeenAt: integer('first_seen_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    /** When the stored state was observed upstream; an older observation never overwrites a newer one. */
    observedAt: integer('observed_at').notNull(),
    statusChangedAt: integer('status_changed_at'),
    upstreamMissingAt: integer('upstream_missing_at'),
  },
  (t) => [
    index('jobs_created_idx').on(t.createdAt, t.id),
    index('jobs_status_created_idx').on(t.status, t.createdAt, t.id),
    index('jobs_endpoint_created_idx').on(t.endpoint, t.createdAt, t.id),
    index('jobs_source_created_idx').on(t.source, t.createdAt, t.id),
    index('jobs_project_idx').on(t.projectId, t.createdAt),
    index('jobs_workflow_idx').on(t.workflowId, t.createdAt),
    index('jobs_workflow_node_idx').on(t.workflowNodeId, t.createdAt),
    index('jobs_model_idx').on(t.model, t.createdAt),
    index('jobs_error_code_idx').on(t.errorCode),
    // Hydration reads the newest jobs still missing their request: a range read, no sort.
    index('jobs_has_request_idx').on(t.createdAt, t.id).where(sql`has_request = 0`),
  ],
);

/**
 * The two columns that tie a derived row to its job: `job_seq` (what lookups go through: new jobs' rows land
 * at the end of each key range) and the job's id, for reading. Deleting the job deletes its rows.
 */
const jobReference = () => ({
  jobSeq: integer('job_seq')
    .notNull()
    .references(() => jobs.seq, { onDelete: 'cascade' }),
  jobId: text('job_id').notNull(),
});

/** One row per filename in a job's request (`document` and each of `documents[]`). */
export const jobFiles = sqliteTable(
  'job_files',
  {
    ...jobReference(),
    position: integer('position').notNull(),
    filename: text('filename').notNull(),
    documentType: text('document_type'),
  },
  // No index on filename: regex and substring filters cannot use one (they scan), and each index costs every
  // page's commit. Both are keyed by `job_seq`, so new jobs' rows land at the end of each key range.
  (t) => [
    primaryKey({ columns: [t.jobSeq, t.position] }),
    index('job_files_type_idx').on(t.documentType, t.jobSeq),
  ],
);

/** One row per metadata pair, so metadata filters are index lookups (the job's `metadata` JSON is the source). */
export const jobMetadata = sqliteTable(
  'job_metadata',
  {
    ...jobReference(),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  // One b-tree serves both the filters (key = ? AND value = ?) and per-job probes (all three equal); keyed by
  // `job_seq`, new jobs' pairs land at the end of each (key, value) range. A second index led by the job would
  // add one more write per pair to every page.
  (t) => [primaryKey({ columns: [t.key, t.value, t.jobSeq] })],
);

/** The outbox: written in the same transaction as the page that caused it. */
export const jobEvents = sqliteTable(
  'job_events',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    jobId: text('job_id').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status'),
    /** Unix ms: from the job's own timestamps where they exist, else the observation time. */
    occurredAt: integer('occurred_at').notNull(),
    observedAt: integer('observed_at').notNull(),
    inferred: integer('inferred', { mode: 'boolean' }).notNull().default(false),
    backfill: integer('backfill', { mode: 'boolean' }).notNull().default(false),
    /** JSON: `{ job: <snapshot> , ... }`. */
    payload: text('payload').notNull(),
  },
  (t) => [
    // Event ids start with their occurrence time, so this unique index grows at its end, not at random.
    uniqueIndex('job_events_event_id_idx').on(t.eventId),
    index('job_events_type_idx').on(t.type, t.seq),
    // A job's history (the console's job page) without scanning the outbox.
    index('job_events_job_idx').on(t.jobId, t.seq),
  ],
);

/** One row per partition (`head`, `active:queued`, `window:2026-11-01`, …). */
export const syncState = sqliteTable('sync_state', {
  partition: text('partition').primaryKey(),
  /** Resume position: the last job id of the last committed page (an `after` cursor). */
  cursor: text('cursor'),
  /** Highest `created_at` (unix s) known complete for this partition. */
  watermark: integer('watermark'),
  /** `idle | running | done | failed`. */
  status: text('status').notNull().default('idle'),
  pages: integer('pages').notNull().default(0),
  jobs: integer('jobs').notNull().default(0),
  lastRunAt: integer('last_run_at'),
  lastSuccessAt: integer('last_success_at'),
  lastError: text('last_error'),
  updatedAt: integer('updated_at').notNull(),
  /**
   * Fencing token of the partition's lease: bumped by each worker that takes the lease (`syncState.takeFence`);
   * a write carrying an older token is refused (FencedWriteError). 0 = never leased.
   */
  fence: integer('fence').notNull().default(0),
});

/** One row per task run, success or not. */
export const syncRuns = sqliteTable(
  'sync_runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    task: text('task').notNull(),
    partition: text('partition').notNull(),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at'),
    requests: integer('requests').notNull().default(0),
    pages: integer('pages').notNull().default(0),
    jobs: integer('jobs').notNull().default(0),
    inserted: integer('inserted').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    events: integer('events').notNull().default(0),
    missing: integer('missing').notNull().default(0),
    quarantined: integer('quarantined').notNull().default(0),
    /** JSON: upstream answers by HTTP status (`"200"`, `"503"`, …; `"network"` for no answer), retries included. */
    upstreamStatuses: text('upstream_statuses'),
    /** `running | success | failed | aborted`. */
    outcome: text('outcome').notNull(),
    error: text('error'),
  },
  (t) => [
    index('sync_runs_partition_idx').on(t.partition, t.id),
    index('sync_runs_task_idx').on(t.task, t.outcome, t.id),
  ],
);

/** Upstream items that failed validation, kept with the reason instead of being dropped silently. */
export const quarantine = sqliteTable(
  'quarantine',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    jobId: text('job_id'),
    partition: text('partition'),
    reason: text('reason').notNull(),
    /** JSON of the zod issues. */
    issues: text('issues'),
    /** The raw item as received (JSON text, truncated to 1 MB). */
    raw: text('raw').notNull(),
    observedAt: integer('observed_at').notNull(),
  },
  (t) => [index('quarantine_job_idx').on(t.jobId)],
);

/** Per sink: the last outbox `seq` it acknowledged. */
export const eventCursors = sqliteTable('event_cursors', {
  sink: text('sink').primaryKey(),
  seq: integer('seq').notNull().default(0),
  updatedAt: integer('updated_at').notNull(),
  /** Bumped by each `events replay`: part of every delivery id, so a replay is never taken for a duplicate. */
  generation: integer('generation').notNull().default(0),
  /** Set when the sink's receiver answered 410 Gone: nothing is sent until `events enable`. Unix ms. */
  disabledAt: integer('disabled_at'),
  disabledReason: text('disabled_reason'),
});

/** Events a sink gave up on after its retries (webhooks): listed by `events failed`, re-sent by `events retry`. */
export const eventDeadLetters = sqliteTable(
  'event_dead_letters',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sink: text('sink').notNull(),
    seq: integer('seq').notNull(),
    eventId: text('event_id').notNull(),
    attempts: integer('attempts').notNull(),
    lastError: text('last_error'),
    failedAt: integer('failed_at').notNull(),
    /** Set when `events retry` delivered it. */
    resolvedAt: integer('resolved_at'),
  },
  (t) => [uniqueIndex('event_dead_letters_sink_event_idx').on(t.sink, t.eventId)],
);
