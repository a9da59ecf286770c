/**
 * `MirrorStore` over SQLite: the synchronous functions of src/mirror/ (one `BEGIN IMMEDIATE` per page,
 * prepared statements cached per connection) behind the asynchronous seam. Each method runs its statement(s)
 * to the end synchronously and returns a settled promise: the hot path pays one microtask per call, and no
 * two calls ever interleave inside a transaction.
 *
 * The same object is also the raw handle the modules of src/mirror/ work with (`path`, `sqlite`, `db`):
 * `openMirror` returns it, so tests and benchmarks that drive those modules directly keep doing so. Code
 * outside src/mirror/ sees it only as a `MirrorStore`.
 */
import type Database from 'better-sqlite3';
import type { Job, JobSource, NormalizedListParams } from '../../retab/index.ts';
import { applyPage } from '../applyPage.ts';
import { markMissing } from '../markMissing.ts';
import type { MirrorDb } from '../openMirror.ts';
import { payloadGaps } from '../payloadGaps.ts';
import { prepared } from '../prepared.ts';
import { listQuarantine } from '../quarantine.ts';
import { getJob, iterateJobs, queryJobs } from '../queryJobs.ts';
import { countByStatus, countJobs, jobsMissingPayload, knownIds, staleActiveJobs } from '../reads.ts';
import { finishRun, lastSuccessfulRun, listRuns, startRun } from '../runs.ts';
import { statsJobs } from '../statsJobs.ts';
import type {
  CursorsStore,
  DeadLettersStore,
  IncludeFlags,
  IterateParams,
  JobsStore,
  MirrorStore,
  OutboxStore,
  QuarantineStore,
  QueryOptions,
  RunsStore,
  SyncStateStore,
  ViewsStore,
} from '../store.ts';
import { getSyncState, listSyncStates, saveCheckpoint } from '../syncState.ts';
import * as cursors from './cursors.ts';
import * as deadLetters from './deadLetters.ts';
import * as outbox from './outbox.ts';
import * as views from './views.ts';

const ok = <T>(value: T): Promise<T> => Promise.resolve(value);

/** Run `fn` now; its result or its exception becomes a settled promise (never a synchronous throw). */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

export class SqliteStore implements MirrorStore {
  readonly kind = 'sqlite' as const;
  /** Absolute path of the database file (`:memory:` for an in-memory mirror). */
  readonly path: string;
  /** The raw better-sqlite3 handle: prepared statements on hot paths (src/mirror/ only). */
  readonly sqlite: Database.Database;
  /** drizzle over the same handle (src/mirror/ only). */
  readonly db: MirrorDb;
  readonly #close: () => void;

  readonly jobs: JobsStore;
  readonly syncState: SyncStateStore;
  readonly runs: RunsStore;
  readonly quarantine: QuarantineStore;
  readonly outbox: OutboxStore;
  readonly cursors: CursorsStore;
  readonly deadLetters: DeadLettersStore;
  readonly views: ViewsStore;

  constructor(path: string, sqlite: Database.Database, db: MirrorDb, close: () => void) {
    this.path = path;
    this.sqlite = sqlite;
    this.db = db;
    this.#close = close;
    this.jobs = {
      applyPage: (jobs: readonly Job[], opts) => settle(() => applyPage(this, jobs, opts)),
      markMissing: (ids, observedAt, opts) => settle(() => markMissing(this, ids, observedAt, opts)),
      get: (id: string, include?: IncludeFlags) => settle(() => getJob(this, id, include)),
      query: (params: NormalizedListParams, opts?: QueryOptions) =>
        settle(() => queryJobs(this, params, opts)),
      iterate: (params: IterateParams) => iterateAsync(this, params),
      stats: (opts) => settle(() => statsJobs(this, opts)),
      count: () => settle(() => countJobs(this)),
      countByStatus: () => settle(() => countByStatus(this)),
      countCreatedBetween: (fromS, toS) =>
        settle(
          () =>
            (
              prepared(this, 'SELECT count(*) AS n FROM jobs WHERE created_at >= ? AND created_at < ?').get(
                fromS,
                toS,
              ) as { n: number }
            ).n,
        ),
      latestCreatedAt: (source?: JobSource) =>
        settle(
          () =>
            (
              (source
                ? prepared(this, 'SELECT max(created_at) AS m FROM jobs WHERE source = ?').get(source)
                : prepared(this, 'SELECT max(created_at) AS m FROM jobs').get()) as { m: number | null }
            ).m,
        ),
      knownIds: (ids) => settle(() => knownIds(this, ids)),
      createdAtOf: (ids) =>
        settle(() =>
          ids.length === 0
            ? []
            : (prepared(
                this,
                'SELECT id, created_at AS createdAt FROM jobs WHERE id IN (SELECT value FROM json_each(?))',
              ).all(JSON.stringify(ids)) as { id: string; createdAt: number }[]),
        ),
      staleActive: (opts) => settle(() => staleActiveJobs(this, opts)),
      missingPayload: (opts) => settle(() => jobsMissingPayload(this, opts)),
      payloadGaps: (ids, want) => settle(() => payloadGaps(this, ids, want)),
      anyMetadataValue: (key) => settle(() => views.anyMetadataValue(this, key)),
    };
    this.syncState = {
      save: (patch, now) => settle(() => saveCheckpoint(this, patch, now)),
      get: (partition) => settle(() => getSyncState(this, partition)),
      list: (prefix) => settle(() => listSyncStates(this, prefix)),
    };
    this.runs = {
      start: (run) => settle(() => startRun(this, run)),
      finish: (id, totals) => settle(() => finishRun(this, id, totals)),
      list: (opts) => settle(() => listRuns(this, opts)),
      lastSuccessful: (prefix) => settle(() => lastSuccessfulRun(this, prefix)),
      latestPerPartition: () => settle(() => views.latestPerPartition(this)),
    };
    this.quarantine = { list: (opts) => settle(() => listQuarantine(this, opts)) };
    this.outbox = {
      after: (afterSeq, limit, q) => settle(() => outbox.readEventsAfter(this, afterSeq, limit, q)),
      last: (n, q) => settle(() => outbox.readLastEvents(this, n, q)),
      maxSeq: () => settle(() => outbox.maxSeq(this)),
      byEventId: (eventId) => settle(() => outbox.readEventById(this, eventId)),
      count: () => settle(() => outbox.countEvents(this)),
    };
    this.cursors = {
      get: (sink) => settle(() => cursors.readCursor(this, sink)),
      set: (sink, seq) => settle(() => cursors.setCursor(this, sink, seq)),
      advance: (sink, expected, seq) => settle(() => cursors.advanceCursor(this, sink, expected, seq)),
      list: () => settle(() => cursors.listCursors(this)),
      replayFrom: (sink, fromSeq) => settle(() => cursors.replayFrom(this, sink, fromSeq)),
      disable: (sink, reason) => settle(() => cursors.disableSink(this, sink, reason)),
      enable: (sink) => settle(() => cursors.enableSink(this, sink)),
    };
    this.deadLetters = {
      record: (d) => settle(() => deadLetters.recordDeadLetter(this, d)),
      list: (opts) => settle(() => deadLetters.listDeadLetters(this, opts)),
      resolve: (id, attempts) => settle(() => deadLetters.markDeadLetterResolved(this, id, attempts)),
    };
    this.views = {
      lastSuccessAt: (task) => settle(() => views.lastSuccessAt(this, task)),
      requestsSince: (sinceMs) => settle(() => views.requestsSince(this, sinceMs)),
      metrics: () => settle(() => views.metricsSnapshot(this)),
      partitions: (limit) => settle(() => views.partitions(this, limit)),
      runsOf: (partition, limit) => settle(() => views.runsOf(this, partition, limit)),
      upstreamStatusesSince: (sinceMs) => settle(() => views.upstreamStatusesSince(this, sinceMs)),
      recentQuarantine: (limit) => settle(() => views.recentQuarantine(this, limit)),
      deadLetterBriefs: (limit) => settle(() => views.deadLetterBriefs(this, limit)),
      jobTrace: (jobId) => settle(() => views.jobTrace(this, jobId)),
      metadataSeqs: (key, value) => settle(() => views.metadataSeqs(this, key, value)),
      jobColumnsAfter: (afterSeq, limit) => settle(() => views.jobColumnsAfter(this, afterSeq, limit)),
      jobColumnsOf: (ids) => settle(() => views.jobColumnsOf(this, ids)),
      eventJobIdsAfter: (afterSeq) => settle(() => views.eventJobIdsAfter(this, afterSeq)),
    };
  }

  get location(): string {
    return this.path;
  }

  /** Close the connection (synchronously: done when this returns); idempotent. */
  close(): Promise<void> {
    this.#close();
    return ok(undefined);
  }
}

/**
 * `iterateJobs` as an async iterable. The statement is stepped lazily, one row per `next()`, and released
 * when the loop ends or breaks; meanwhile the connection is busy (better-sqlite3 refuses another statement
 * on it), as with the synchronous generator.
 */
async function* iterateAsync(m: SqliteStore, params: IterateParams): AsyncGenerator<Job> {
  yield* iterateJobs(m, params);
}
