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
import type { NormalizedListParams } from '../../retab/params.ts';
import type { Job, JobSource } from '../../retab/schemas.ts';
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
    const m = this;
    this.jobs = {
      applyPage: (jobs: readonly Job[], opts) => settle(() => applyPage(m, jobs, opts)),
      markMissing: (ids, observedAt, opts) => settle(() => markMissing(m, ids, observedAt, opts)),
      get: (id: string, include?: IncludeFlags) => settle(() => getJob(m, id, include)),
      query: (params: NormalizedListParams, opts?: QueryOptions) => settle(() => queryJobs(m, params, opts)),
      iterate: (params: IterateParams) => iterateAsync(m, params),
      stats: (opts) => settle(() => statsJobs(m, opts)),
      count: () => settle(() => countJobs(m)),
      countByStatus: () => settle(() => countByStatus(m)),
      countCreatedBetween: (fromS, toS) =>
        settle(
          () =>
            (
              prepared(m, 'SELECT count(*) AS n FROM jobs WHERE created_at >= ? AND created_at < ?').get(
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
                ? prepared(m, 'SELECT max(created_at) AS m FROM jobs WHERE source = ?').get(source)
                : prepared(m, 'SELECT max(created_at) AS m FROM jobs').get()) as { m: number | null }
            ).m,
        ),
      knownIds: (ids) => settle(() => knownIds(m, ids)),
      createdAtOf: (ids) =>
        settle(() =>
          ids.length === 0
            ? []
            : (prepared(
                m,
                'SELECT id, created_at AS createdAt FROM jobs WHERE id IN (SELECT value FROM json_each(?))',
              ).all(JSON.stringify(ids)) as { id: string; createdAt: number }[]),
        ),
      staleActive: (opts) => settle(() => staleActiveJobs(m, opts)),
      missingPayload: (opts) => settle(() => jobsMissingPayload(m, opts)),
      payloadGaps: (ids, want) => settle(() => payloadGaps(m, ids, want)),
      anyMetadataValue: (key) => settle(() => views.anyMetadataValue(m, key)),
    };
    this.syncState = {
      save: (patch, now) => settle(() => saveCheckpoint(m, patch, now)),
      get: (partition) => settle(() => getSyncState(m, partition)),
      list: (prefix) => settle(() => listSyncStates(m, prefix)),
    };
    this.runs = {
      start: (run) => settle(() => startRun(m, run)),
      finish: (id, totals) => settle(() => finishRun(m, id, totals)),
      list: (opts) => settle(() => listRuns(m, opts)),
      lastSuccessful: (prefix) => settle(() => lastSuccessfulRun(m, prefix)),
      latestPerPartition: () => settle(() => views.latestPerPartition(m)),
    };
    this.quarantine = { list: (opts) => settle(() => listQuarantine(m, opts)) };
    this.outbox = {
      after: (afterSeq, limit, q) => settle(() => outbox.readEventsAfter(m, afterSeq, limit, q)),
      last: (n, q) => settle(() => outbox.readLastEvents(m, n, q)),
      maxSeq: () => settle(() => outbox.maxSeq(m)),
      byEventId: (eventId) => settle(() => outbox.readEventById(m, eventId)),
      count: () => settle(() => outbox.countEvents(m)),
    };
    this.cursors = {
      get: (sink) => settle(() => cursors.readCursor(m, sink)),
      set: (sink, seq) => settle(() => cursors.setCursor(m, sink, seq)),
      advance: (sink, expected, seq) => settle(() => cursors.advanceCursor(m, sink, expected, seq)),
      list: () => settle(() => cursors.listCursors(m)),
      replayFrom: (sink, fromSeq) => settle(() => cursors.replayFrom(m, sink, fromSeq)),
      disable: (sink, reason) => settle(() => cursors.disableSink(m, sink, reason)),
      enable: (sink) => settle(() => cursors.enableSink(m, sink)),
    };
    this.deadLetters = {
      record: (d) => settle(() => deadLetters.recordDeadLetter(m, d)),
      list: (opts) => settle(() => deadLetters.listDeadLetters(m, opts)),
      resolve: (id, attempts) => settle(() => deadLetters.markDeadLetterResolved(m, id, attempts)),
      failedAgain: (id, attempts, error) =>
        settle(() => deadLetters.markDeadLetterFailedAgain(m, id, attempts, error)),
    };
    this.views = {
      lastSuccessAt: (task) => settle(() => views.lastSuccessAt(m, task)),
      requestsSince: (sinceMs) => settle(() => views.requestsSince(m, sinceMs)),
      metrics: () => settle(() => views.metricsSnapshot(m)),
      partitions: (limit) => settle(() => views.partitions(m, limit)),
      runsOf: (partition, limit) => settle(() => views.runsOf(m, partition, limit)),
      upstreamStatusesSince: (sinceMs) => settle(() => views.upstreamStatusesSince(m, sinceMs)),
      recentQuarantine: (limit) => settle(() => views.recentQuarantine(m, limit)),
      deadLetterBriefs: (limit) => settle(() => views.deadLetterBriefs(m, limit)),
      jobTrace: (jobId) => settle(() => views.jobTrace(m, jobId)),
      metadataSeqs: (key, value) => settle(() => views.metadataSeqs(m, key, value)),
      jobColumnsAfter: (afterSeq, limit) => settle(() => views.jobColumnsAfter(m, afterSeq, limit)),
      jobColumnsOf: (ids) => settle(() => views.jobColumnsOf(m, ids)),
      eventJobIdsAfter: (afterSeq) => settle(() => views.eventJobIdsAfter(m, afterSeq)),
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
