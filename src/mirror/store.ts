/**
 * The store seam: everything the rest of the program (sync, events, server, console, queue, demo, CLI, the
 * library facade) asks of a mirror, as ONE asynchronous interface. SQLite (`SqliteStore`, sqlite/sqliteStore.ts)
 * and PostgreSQL (`PgStore`, pg/pgStore.ts; issue #21, DESIGN.md §8) implement it, so that every
 * consumer works unchanged on either.
 *
 * Why asynchronous although SQLite answers synchronously: a server database answers over a socket. SQLite's
 * implementation stays synchronous inside (one `BEGIN IMMEDIATE` per page, prepared statements) and only
 * resolves a promise at the end, so its hot path costs one microtask per call, not a thread hop.
 *
 * Rules every implementation keeps (the tests of the SQLite store hold a PostgreSQL store to them too):
 * - `jobs.applyPage` writes the rows, their derived rows, the outbox events, the quarantined items and the
 *   checkpoint in ONE transaction, with the pure merge rule of mergeObservation.ts (absent is not null; an
 *   older observation never overwrites a newer one). A rejected promise means nothing of the page is stored.
 * - `outbox.after(n)` never skips an event: once it returned seq N, no event with a lower seq commits later
 *   (SQLite: writers are serialised; PostgreSQL must guarantee it explicitly — DESIGN.md §8).
 * - Times are unix ms unless a field says seconds (`created_at` and the other job timestamps are unix s, as
 *   upstream sends them). Ids are upstream job ids (`job_…`).
 * - Errors: reads of an unknown id resolve `undefined`; a cursor naming no mirrored job rejects with
 *   `InvalidCursorError` (retab/errors.ts, the class the library exports); storage failures reject with the
 *   driver's error (its `code`, e.g. `SQLITE_BUSY`, is what `describeError`/`isRetryable` in sync/taskRun.ts
 *   read). Nothing here retries.
 *
 * No driver type (better-sqlite3, drizzle, pg) appears in this file: consumers outside src/mirror/ see only
 * plain data (test/architecture/storeSeam.test.ts keeps them from reaching past it).
 */
import type { PartitionView, RunView } from '../console/index.ts';
import type { MirrorEvent } from '../events/index.ts';
import type { Job, JobList, JobSource, JobStatus, NormalizedListParams } from '../retab/index.ts';
import type { JobFilters } from './buildWhere.ts';
import type { FenceToken } from './fence.ts';
import type { StatsOptions, StatsResult } from './statsJobs.ts';
import type {
  ApplyPageOptions,
  ApplyResult,
  CheckpointPatch,
  RunCounters,
  RunRecord,
  RunTotals,
} from './types.ts';

export type StoreKind = 'sqlite' | 'postgres';

/**
 * The sub-stores of a store, declared once for both implementations: `PgStore` and `SqliteStore` extend
 * this and hand their sub-stores to `super` through `build`, which receives the store itself (its
 * closures reach it lazily: the subclass's own fields are not assigned yet while `build` runs).
 */
export abstract class SubStoreSet<Self = unknown> {
  readonly jobs: JobsStore;
  readonly syncState: SyncStateStore;
  readonly runs: RunsStore;
  readonly quarantine: QuarantineStore;
  readonly outbox: OutboxStore;
  readonly cursors: CursorsStore;
  readonly deadLetters: DeadLettersStore;
  /** Read models of the server, console, `status`, metrics and the demo's live view. */
  readonly views: ViewsStore;

  constructor(build: (self: Self) => SubStores) {
    const parts = build(this as unknown as Self);
    this.jobs = parts.jobs;
    this.syncState = parts.syncState;
    this.runs = parts.runs;
    this.quarantine = parts.quarantine;
    this.outbox = parts.outbox;
    this.cursors = parts.cursors;
    this.deadLetters = parts.deadLetters;
    this.views = parts.views;
  }
}

/** The sub-stores as a plain object (what `SubStoreSet`'s `build` returns). */
export type SubStores = Omit<SubStoreSet, never>;

/** The mirror as one asynchronous interface; see the file header for the rules it keeps. */
export interface MirrorStore extends SubStoreSet {
  readonly kind: StoreKind;
  /**
   * Where it lives, for messages and `status`: the absolute file path (SQLite; `:memory:` in memory) or the
   * connection URL with its password masked (`postgres://user:***@host/db`). Never carries a secret.
   */
  readonly location: string;
  /** Release the connection(s); idempotent. SQLite also truncates its WAL when it wrote. */
  close(): Promise<void>;
}

// ---- jobs

/** Which payloads a read returns (`GET /v1/jobs` flags). Both default to false (null in the answer). */
export interface IncludeFlags {
  include_request?: boolean;
  include_response?: boolean;
}

/** Parameters of `jobs.iterate`: every list filter, the include flags, an order and a start cursor. */
export type IterateParams = JobFilters &
  IncludeFlags & {
    /** @default 'desc' (newest first, as upstream lists) */
    order?: 'asc' | 'desc';
    /** Start after this job's position (as the `after` cursor). */
    after?: string;
  };

export interface QueryOptions {
  /** Candidates in the first window of a filename-filtered walk (tuning; tests shrink it). @default 1000 */
  walkWindow?: number;
  /** Use the filename index (benchmarks and tests compare with the plan without it). @default true */
  useFilenameIndex?: boolean;
}

export interface MarkMissingOptions {
  /** Flag the events as backfill (alert rules ignore them by default). @default false */
  backfill?: boolean;
}

/** A job still stored as in flight that a sweep did not see (`jobs.staleActive`). */
export interface StaleActiveJob {
  id: string;
  status: JobStatus;
  /** Unix s. */
  createdAt: number;
}

export interface StaleActiveOptions {
  /** Non-terminal statuses to consider. @default ACTIVE_STATUSES */
  statuses?: readonly JobStatus[];
  /** Unix ms: jobs last seen before this (typically the sweep's start) are stale. */
  notSeenSince: number;
}

export interface MissingPayloadOptions {
  /** `request`: any job without one. `response`: completed jobs without one (others have none to fetch). */
  kind: 'request' | 'response';
  /** @default 100 */
  limit?: number;
}

/** Which payloads a reader asked for (`jobs.payloadGaps`). */
export interface PayloadWants {
  request: boolean;
  response: boolean;
}

export interface JobsStore {
  /**
   * Merge one page (or batch of pages) of upstream jobs in one transaction: rows, files, metadata, outbox
   * events, `opts.rejected` into quarantine, `opts.checkpoint` into sync_state. Never slower than the
   * synchronous SQLite write it wraps (bench/applyPage.ts).
   */
  applyPage(jobs: readonly Job[], opts: ApplyPageOptions): Promise<ApplyResult>;
  /**
   * Upstream answered 404 for `ids` at `observedAt` (unix ms): mark them and emit `job.missing_upstream`, in one
   * transaction. Resolves how many were newly marked (unknown, already marked or seen since: skipped).
   */
  markMissing(ids: readonly string[], observedAt: number, opts?: MarkMissingOptions): Promise<number>;
  /** `GET /v1/jobs/{id}` from the mirror; undefined when it holds no such job. */
  get(id: string, include?: IncludeFlags): Promise<Job | undefined>;
  /**
   * One page of `GET /v1/jobs` answered from the mirror, exactly as upstream would (DESIGN.md §1, §6).
   * @throws InvalidCursorError (rejects) when `before`/`after` names no mirrored job.
   */
  query(params: NormalizedListParams, opts?: QueryOptions): Promise<JobList>;
  /**
   * Every matching job in listing order, streamed (exports, `jobs list --all`). Stop early with `break`: the
   * underlying cursor is released. @throws InvalidCursorError when `after` names no mirrored job.
   */
  iterate(params: IterateParams): AsyncIterable<Job>;
  /** Aggregates (counts, failure rate, duration and queue-wait percentiles, daily throughput) per group. */
  stats(opts: StatsOptions): Promise<StatsResult>;
  /** Jobs mirrored. */
  count(): Promise<number>;
  /** Jobs per status; every known status is present (0 when none). */
  countByStatus(): Promise<Record<JobStatus, number>>;
  /** Jobs with `fromS <= created_at < toS` (unix s): the cost estimate of re-listing a day. */
  countCreatedBetween(fromS: number, toS: number): Promise<number>;
  /** The newest `created_at` (unix s) mirrored, of one source when given; null when none. */
  latestCreatedAt(source?: JobSource): Promise<number | null>;
  /** The subset of `ids` the mirror holds. */
  knownIds(ids: Iterable<string>): Promise<Set<string>>;
  /** `created_at` (unix s) of those of `ids` the mirror holds, in no particular order. */
  createdAtOf(ids: readonly string[]): Promise<{ id: string; createdAt: number }[]>;
  /** Jobs stored with an active status, last seen before `notSeenSince`, not missing upstream; oldest first. */
  staleActive(opts: StaleActiveOptions): Promise<StaleActiveJob[]>;
  /** Ids of jobs whose payload is not mirrored yet, newest first, skipping jobs missing upstream. */
  missingPayload(opts: MissingPayloadOptions): Promise<string[]>;
  /** The ids among `ids` lacking a payload `want`ed (unknown, not known-absent), in the order given. */
  payloadGaps(ids: readonly string[], want: PayloadWants): Promise<string[]>;
  /** One value stored under metadata `key` by any job, or undefined (the demo's example batch id). */
  anyMetadataValue(key: string): Promise<string | undefined>;
}

// ---- sync state, runs, quarantine

/** One partition's row of sync state (`head`, `active:queued`, `window:2026-11-01`, …). */
// A type alias, not an interface, so that a row passes as a `Record<string, unknown>` (as drizzle's rows do).
export type SyncStateRow = {
  partition: string;
  /** Resume position: the last job id of the last committed page (an `after` cursor). */
  cursor: string | null;
  /** Highest `created_at` (unix s) known complete. */
  watermark: number | null;
  /** `idle | running | done | failed`. */
  status: string;
  pages: number;
  jobs: number;
  lastRunAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  updatedAt: number;
  /** The fencing token of the partition's last lease holder (fence.ts); 0 when never leased. */
  fence: number;
};

export interface SyncStateStore {
  /**
   * Apply a checkpoint outside a page (a page's own checkpoint goes through `applyPage`). `now`: unix ms.
   * With `fence`, it commits only while `sync_state.fence` of `fence.partition` equals `fence.token`, else
   * rejects with `FencedWriteError` (fence.ts) and stores nothing.
   */
  save(patch: CheckpointPatch, now?: number, fence?: FenceToken): Promise<void>;
  /**
   * Take the next fencing token of `partition` (fence.ts): atomically add 1 to its `sync_state.fence`
   * (creating the row, status `idle`, when missing) and resolve the new value. Called by whoever took the
   * partition's lease, before its task reads the checkpoint; writes made with an older token are refused from
   * then on. `now`: unix ms, stamped as `updated_at` on a new row.
   */
  takeFence(partition: string, now?: number): Promise<number>;
  get(partition: string): Promise<SyncStateRow | undefined>;
  /** Every partition's row, ordered by partition; only those starting with `prefix` when given. */
  list(prefix?: string): Promise<SyncStateRow[]>;
}

/** One task run (`sync_runs`). `outcome`: `running | success | failed | aborted`. */
export interface SyncRunRow extends RunRecord, RunCounters {
  id: number;
  finishedAt: number | null;
  /** JSON: upstream answers by HTTP status (`"200"`, `"network"`…), retries included. */
  upstreamStatuses: string | null;
  outcome: string;
  error: string | null;
}

/** Which rows of a per-partition log (`sync_runs`, `quarantine`) to list, newest first. */
export interface PartitionLogOptions {
  /** Only this partition's rows. */
  partition?: string;
  /** @default 20 for runs, 100 for quarantined items */
  limit?: number;
}
export type ListRunsOptions = PartitionLogOptions;

export interface RunsStore {
  /**
   * Record a run as `running`; resolves its id for `finish`. A previous run of the partition still marked
   * `running` (its process died) becomes `aborted` in the same transaction.
   */
  start(run: RunRecord): Promise<number>;
  /** Record a run's end. @throws Error (rejects) when no run has this id. */
  finish(id: number, totals: RunTotals): Promise<void>;
  /** Runs, newest first. */
  list(opts?: ListRunsOptions): Promise<SyncRunRow[]>;
  /** The newest successful run whose task equals `taskOrPartitionPrefix` or whose partition starts with it. */
  lastSuccessful(taskOrPartitionPrefix: string): Promise<SyncRunRow | undefined>;
  /** The latest run of every partition, ordered by partition (`retab-mirror status`). */
  latestPerPartition(): Promise<SyncRunRow[]>;
}

/** An upstream item that failed validation, kept with the reason. */
export interface QuarantineRow {
  id: number;
  jobId: string | null;
  partition: string | null;
  reason: string;
  /** JSON of the validation issues. */
  issues: string | null;
  /** The raw item as received (JSON text, truncated to 1 MB). */
  raw: string;
  observedAt: number;
}

export interface QuarantineStore {
  /** Newest first; `limit` @default 100. */
  list(opts?: PartitionLogOptions): Promise<QuarantineRow[]>;
}

// ---- the outbox and its delivery state

/** Filters of the outbox reads that serve people (`events tail`, the SSE stream). */
export interface OutboxQuery {
  /** Only these types. */
  types?: readonly string[];
  /** Only events whose `to` status is one of these. */
  toStatuses?: readonly string[];
  /** Only events up to this seq (a snapshot of `maxSeq`, so a concurrent write is never skipped). */
  upToSeq?: number;
  /** Leave out events flagged `backfill` (history, not news). @default false */
  excludeBackfill?: boolean;
}

/**
 * The one reader of the outbox (`job_events`). Every read returns events in the one wire shape
 * (`MirrorEvent`, events/types.ts), parsed once here.
 */
export interface OutboxStore {
  /** Up to `limit` events with `seq > afterSeq` (matching `q`), in seq order. Never skips (file header). */
  after(afterSeq: number, limit: number, q?: OutboxQuery): Promise<MirrorEvent[]>;
  /** The last `n` matching events, oldest first. */
  last(n: number, q?: OutboxQuery): Promise<MirrorEvent[]>;
  /** The highest seq written so far (0 for an empty outbox). */
  maxSeq(): Promise<number>;
  byEventId(eventId: string): Promise<MirrorEvent | undefined>;
  /** Events in the outbox. */
  count(): Promise<number>;
}

/** One sink's delivery state. */
export interface SinkCursor {
  sink: string;
  /** Last acknowledged outbox seq. */
  seq: number;
  /** Unix ms of the last change. */
  updatedAt: number;
  /** Number of `events replay` runs on this sink; 0 for the first delivery. */
  generation: number;
  /** Unix ms the receiver answered 410 Gone; null while enabled. */
  disabledAt: number | null;
  disabledReason: string | null;
}

/** Per-sink delivery state (`event_cursors`). */
export interface CursorsStore {
  get(sink: string): Promise<SinkCursor | undefined>;
  /** Create at `seq` if absent (first start of a sink); an existing cursor is kept (never moved back). */
  set(sink: string, seq: number): Promise<void>;
  /**
   * Compare-and-set, forward only (`seq > expected`): false when someone (an `events replay`, the lane's
   * new holder in a fleet) moved it since it was read. Lane writes thus never move a cursor backwards.
   */
  advance(sink: string, expected: number, seq: number): Promise<boolean>;
  /** Every cursor, by sink. */
  list(): Promise<SinkCursor[]>;
  /**
   * Deliver again from `fromSeq` under a new generation; resolves the new cursor (`fromSeq - 1`).
   * @throws RangeError (rejects) when `fromSeq` < 1 or past `maxSeq + 1`.
   */
  replayFrom(sink: string, fromSeq: number): Promise<number>;
  /** Mark disabled (410 Gone); false when it already was. `reason` is cut to 500 characters. */
  disable(sink: string, reason: string): Promise<boolean>;
  /** Clear the disabled mark; false when it was not disabled. */
  enable(sink: string): Promise<boolean>;
}

export interface DeadLetter {
  id: number;
  sink: string;
  seq: number;
  eventId: string;
  attempts: number;
  lastError: string | null;
  failedAt: number;
  resolvedAt: number | null;
}

export interface DeadLetterInput {
  sink: string;
  seq: number;
  eventId: string;
  attempts: number;
  /** Cut to 2000 characters. */
  lastError: string;
}

export interface ListDeadLettersOptions {
  /** Also list the ones `events retry` already resolved. @default false */
  includeResolved?: boolean;
  /** Only these ids. */
  ids?: readonly number[];
}

/** Events a sink gave up on (`event_dead_letters`), one per (sink, event). */
export interface DeadLettersStore {
  /** Record (or re-open) a dead letter. */
  record(d: DeadLetterInput): Promise<void>;
  /** By id. */
  list(opts?: ListDeadLettersOptions): Promise<DeadLetter[]>;
  resolve(id: number, attempts: number): Promise<void>;
}

// ---- read models (the SQL of the views lives with the store; the views shape and format)

/** A run as the console's Sync page shows it (the console's wire type: console/wire.ts declares it once). */
export type RunBrief = RunView;

/** A partition's state as the Sync page shows it (its runs come from `runsOf`). */
export type PartitionBrief = Omit<PartitionView, 'runs'>;

/** The console's dead-letter rows (unresolved first, then newest), with the job each event is about. */
export interface DeadLetterBrief extends DeadLetter {
  jobId: string | null;
}

/** What the metrics endpoint reads at scrape time (from the run log and the outbox). */
export interface MetricsSnapshot {
  jobsByStatus: { status: string; n: number }[];
  /** Unix ms of the newest successful run's end; null before the first. */
  lastSuccessAt: number | null;
  upstreamRequests: number;
  upstreamResponses: { status: string; n: number }[];
  quarantined: number;
  eventsByType: { type: string; n: number }[];
  runsByOutcome: { task: string; outcome: string; n: number }[];
  /** Total duration of finished runs per task, ms. */
  runMsByTask: { task: string; ms: number }[];
  /** Duration of the latest finished run per task, ms. */
  lastRunMsByTask: { task: string; ms: number }[];
  maxSeq: number;
}

/** A job's bookkeeping beside its wire shape (the console's job page). */
export interface JobTrace {
  /** Stored payload sizes, bytes of JSON text; null when none is stored. */
  requestBytes: number | null;
  responseBytes: number | null;
  firstSeenAt: number;
  lastSeenAt: number;
  upstreamMissingAt: number | null;
  /** Its outbox events, oldest first. */
  events: MirrorEvent[];
}

/**
 * A job's small columns for the console's in-memory aggregate index:
 * `[seq, status, endpoint, source, model, errorCode, createdAt (s), startedAt (s), completedAt (s)]`.
 * `seq` is a dense, growing row number (SQLite's rowid; a sequence on PostgreSQL).
 */
export type JobColumnsRow = [
  seq: number,
  status: string,
  endpoint: string,
  source: string,
  model: string | null,
  errorCode: string | null,
  createdAt: number,
  startedAt: number | null,
  completedAt: number | null,
];

export interface ViewsStore {
  /** Unix ms of the newest successful run's end (of `task` when given); null before the first. */
  lastSuccessAt(task?: string): Promise<number | null>;
  /** Upstream requests made by runs that finished at or after `sinceMs` (the demo's requests/min). */
  requestsSince(sinceMs: number): Promise<number>;
  metrics(): Promise<MetricsSnapshot>;
  /** Partitions, scheduled ones first, then the newest windows; at most `limit`. */
  partitions(limit: number): Promise<PartitionBrief[]>;
  /** The last `limit` runs of a partition, newest first. */
  runsOf(partition: string, limit: number): Promise<RunBrief[]>;
  /**
   * `[startedAt (ms), upstream_statuses JSON | null]` of runs started at or after `sinceMs`, newest first
   * (the console's upstream chart).
   */
  upstreamStatusesSince(sinceMs: number): Promise<[number, string | null][]>;
  /** The newest quarantined items (id, job, partition, reason, observedAt), at most `limit`. */
  recentQuarantine(
    limit: number,
  ): Promise<
    { id: number; jobId: string | null; partition: string | null; reason: string; observedAt: number }[]
  >;
  deadLetterBriefs(limit: number): Promise<DeadLetterBrief[]>;
  /** A job's bookkeeping and outbox history; undefined when it is not mirrored. */
  jobTrace(jobId: string): Promise<JobTrace | undefined>;
  /** The seqs of jobs having metadata `key = value` (console filters). */
  metadataSeqs(key: string, value: string): Promise<number[]>;
  /** Up to `limit` job column rows with `seq > afterSeq`, by seq (`limit` omitted: all). */
  jobColumnsAfter(afterSeq: number, limit?: number): Promise<JobColumnsRow[]>;
  /** Job column rows of these ids. */
  jobColumnsOf(ids: readonly string[]): Promise<JobColumnsRow[]>;
  /** `[seq, jobId]` of outbox events with `seq > afterSeq`, by seq. */
  eventJobIdsAfter(afterSeq: number): Promise<[number, string][]>;
}
