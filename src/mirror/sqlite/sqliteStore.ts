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
import type { Job, JobSource } from '../../retab/index.ts';
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
import { type IterateParams, type MirrorStore, SubStoreSet, type SubStores } from '../store.ts';
import { getSyncState, listSyncStates, saveFencedCheckpoint, takeFence } from '../syncState.ts';
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

export class SqliteStore extends SubStoreSet<SqliteStore> implements MirrorStore {
  readonly kind = 'sqlite' as const;
  /** Absolute path of the database file (`:memory:` for an in-memory mirror). */
  readonly path: string;
  /** The raw better-sqlite3 handle: prepared statements on hot paths (src/mirror/ only). */
  readonly sqlite: Database.Database;
  /** drizzle over the same handle (src/mirror/ only). */
  readonly db: MirrorDb;
  readonly #close: () => void;

  constructor(path: string, sqlite: Database.Database, db: MirrorDb, close: () => void) {
    super(sqliteSubStores);
    this.path = path;
    this.sqlite = sqlite;
    this.db = db;
    this.#close = close;
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

/** The sub-stores of a SQLite store: each runs the synchronous function of src/mirror/ and settles. */
function sqliteSubStores(self: SqliteStore): SubStores {
  return {
    jobs: {
      applyPage: (jobs: readonly Job[], opts) => settle(() => applyPage(self, jobs, opts)),
      markMissing: (ids, observedAt, opts) => settle(() => markMissing(self, ids, observedAt, opts)),
      get: (id, include) => settle(() => getJob(self, id, include)),
      query: (params, opts) => settle(() => queryJobs(self, params, opts)),
      iterate: (params) => iterateAsync(self, params),
      stats: (opts) => settle(() => statsJobs(self, opts)),
      count: () => settle(() => countJobs(self)),
      countByStatus: () => settle(() => countByStatus(self)),
      countCreatedBetween: (fromS, toS) =>
        settle(
          () =>
            (
              prepared(self, 'SELECT count(*) AS n FROM jobs WHERE created_at >= ? AND created_at < ?').get(
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
                ? prepared(self, 'SELECT max(created_at) AS m FROM jobs WHERE source = ?').get(source)
                : prepared(self, 'SELECT max(created_at) AS m FROM jobs').get()) as { m: number | null }
            ).m,
        ),
      knownIds: (ids) => settle(() => knownIds(self, ids)),
      createdAtOf: (ids) =>
        settle(() =>
          ids.length === 0
            ? []
            : (prepared(
                self,
                'SELECT id, created_at AS createdAt FROM jobs WHERE id IN (SELECT value FROM json_each(?))',
              ).all(JSON.stringify(ids)) as { id: string; createdAt: number }[]),
        ),
      staleActive: (opts) => settle(() => staleActiveJobs(self, opts)),
      missingPayload: (opts) => settle(() => jobsMissingPayload(self, opts)),
      payloadGaps: (ids, want) => settle(() => payloadGaps(self, ids, want)),
      anyMetadataValue: (key) => settle(() => views.anyMetadataValue(self, key)),
    },
    syncState: {
      save: (patch, now, fence) => settle(() => saveFencedCheckpoint(self, patch, now, fence)),
      takeFence: (partition, now) => settle(() => takeFence(self, partition, now)),
      get: (partition) => settle(() => getSyncState(self, partition)),
      list: (prefix) => settle(() => listSyncStates(self, prefix)),
    },
    runs: {
      start: (run) => settle(() => startRun(self, run)),
      finish: (id, totals) => settle(() => finishRun(self, id, totals)),
      list: (opts) => settle(() => listRuns(self, opts)),
      lastSuccessful: (prefix) => settle(() => lastSuccessfulRun(self, prefix)),
      latestPerPartition: () => settle(() => views.latestPerPartition(self)),
    },
    quarantine: { list: (opts) => settle(() => listQuarantine(self, opts)) },
    outbox: {
      after: (afterSeq, limit, q) => settle(() => outbox.readEventsAfter(self, afterSeq, limit, q)),
      last: (n, q) => settle(() => outbox.readLastEvents(self, n, q)),
      maxSeq: () => settle(() => outbox.maxSeq(self)),
      byEventId: (eventId) => settle(() => outbox.readEventById(self, eventId)),
      count: () => settle(() => outbox.countEvents(self)),
    },
    cursors: {
      get: (sink) => settle(() => cursors.readCursor(self, sink)),
      set: (sink, seq) => settle(() => cursors.setCursor(self, sink, seq)),
      advance: (sink, expected, seq) => settle(() => cursors.advanceCursor(self, sink, expected, seq)),
      list: () => settle(() => cursors.listCursors(self)),
      replayFrom: (sink, fromSeq) => settle(() => cursors.replayFrom(self, sink, fromSeq)),
      disable: (sink, reason) => settle(() => cursors.disableSink(self, sink, reason)),
      enable: (sink) => settle(() => cursors.enableSink(self, sink)),
    },
    deadLetters: {
      record: (d) => settle(() => deadLetters.recordDeadLetter(self, d)),
      list: (opts) => settle(() => deadLetters.listDeadLetters(self, opts)),
      resolve: (id, attempts) => settle(() => deadLetters.markDeadLetterResolved(self, id, attempts)),
    },
    views: {
      lastSuccessAt: (task) => settle(() => views.lastSuccessAt(self, task)),
      requestsSince: (sinceMs) => settle(() => views.requestsSince(self, sinceMs)),
      metrics: () => settle(() => views.metricsSnapshot(self)),
      partitions: (limit) => settle(() => views.partitions(self, limit)),
      runsOf: (partition, limit) => settle(() => views.runsOf(self, partition, limit)),
      upstreamStatusesSince: (sinceMs) => settle(() => views.upstreamStatusesSince(self, sinceMs)),
      recentQuarantine: (limit) => settle(() => views.recentQuarantine(self, limit)),
      deadLetterBriefs: (limit) => settle(() => views.deadLetterBriefs(self, limit)),
      jobTrace: (jobId) => settle(() => views.jobTrace(self, jobId)),
      metadataSeqs: (key, value) => settle(() => views.metadataSeqs(self, key, value)),
      jobColumnsAfter: (afterSeq, limit) => settle(() => views.jobColumnsAfter(self, afterSeq, limit)),
      jobColumnsOf: (ids) => settle(() => views.jobColumnsOf(self, ids)),
      eventJobIdsAfter: (afterSeq) => settle(() => views.eventJobIdsAfter(self, afterSeq)),
    },
  };
}
