/**
 * `MirrorStore` over PostgreSQL: the functions of this folder (one per SQLite operation, same answers)
 * behind the store seam, so every consumer (sync, events, server, console, CLI, demo, library) runs
 * unchanged on `MIRROR_DB=postgres://…`.
 *
 * The outbox reader never skips: `outbox.after(n)` is a plain "seq > n" read, which is safe because outbox
 * appends are serialised (appendEvents.ts: each writer takes one transaction-scoped advisory lock just
 * before it inserts its events and commits right after, so seq order is commit order; once seq N is
 * visible, every lower seq is committed or rolled back for good). No reader needs a snapshot trick, and a
 * BI tool's long transaction cannot stall delivery (test/pg/concurrentWriters.test.ts races two writers
 * with delayed commits).
 *
 * Connections: one `pg` pool per store (`poolSize`); a pooled connection that the server drops while idle
 * is discarded by the pool's 'error' listener (openPgMirror.ts) and the next query opens a fresh one.
 */
import type { Job, JobSource } from '../../retab/index.ts';
import { type MirrorStore, SubStoreSet, type SubStores } from '../store.ts';
import { applyPagePg } from './applyPagePg.ts';
import {
  advanceCursorPg,
  disableSinkPg,
  enableSinkPg,
  listCursorsPg,
  readCursorPg,
  replayFromPg,
  setCursorPg,
} from './cursorsPg.ts';
import { listDeadLettersPg, markDeadLetterResolvedPg, recordDeadLetterPg } from './deadLettersPg.ts';
import { markMissingPg } from './markMissingPg.ts';
import type { PgMirror } from './openPgMirror.ts';
import {
  countEventsPg,
  maxSeqPg,
  readEventByIdPg,
  readLastEventsPg,
  readMatchingAfterPg,
} from './outboxPg.ts';
import { listQuarantinePg } from './quarantinePg.ts';
import { getJobPg, iterateJobsPg, queryJobsPg } from './queryJobsPg.ts';
import {
  countByStatusPg,
  countJobsPg,
  jobsMissingPayloadPg,
  knownIdsPg,
  staleActiveJobsPg,
} from './readsPg.ts';
import { finishRunPg, lastSuccessfulRunPg, listRunsPg, startRunPg } from './runsPg.ts';
import { statsJobsPg } from './statsJobsPg.ts';
import { getSyncStatePg, listSyncStatesPg, saveFencedCheckpointPg, takeFencePg } from './syncStatePg.ts';
import * as views from './viewsPg.ts';

export interface PgStoreOptions {
  /** Server-side limit of each user query (list, stats, export batch), ms. @default 30000 */
  statementTimeoutMs?: number;
}

export class PgStore extends SubStoreSet implements MirrorStore {
  readonly kind = 'postgres' as const;
  /** The connection URL with its password masked. */
  readonly location: string;
  /** The raw pool and drizzle handle (src/mirror/ and tests only). */
  readonly mirror: PgMirror;

  constructor(mirror: PgMirror, opts: PgStoreOptions = {}) {
    super(() => pgSubStores(mirror, opts));
    this.mirror = mirror;
    this.location = mirror.location;
  }

  /** End the pool (waits for checked-out connections); idempotent. */
  close(): Promise<void> {
    return this.mirror.close();
  }
}

/** The sub-stores of a PostgreSQL store: each delegates to this folder's function over the pool. */
function pgSubStores(mirror: PgMirror, opts: PgStoreOptions): SubStores {
  const pool = mirror.pool;
  const db = mirror.db;
  const timeout = opts.statementTimeoutMs ?? 30_000;
  return {
    jobs: {
      applyPage: (jobs: readonly Job[], o) => applyPagePg(pool, jobs, o),
      markMissing: (ids, observedAt, o) => markMissingPg(pool, ids, observedAt, o),
      get: (id, include) => getJobPg(pool, id, include),
      query: (params, o) =>
        queryJobsPg(pool, params, {
          statementTimeoutMs: timeout,
          ...(o?.walkWindow !== undefined ? { batch: o.walkWindow } : {}),
        }),
      iterate: (params) => iterateJobsPg(pool, params, { statementTimeoutMs: timeout }),
      stats: (o) => statsJobsPg(pool, o, { statementTimeoutMs: timeout }),
      count: () => countJobsPg(pool),
      countByStatus: () => countByStatusPg(pool),
      countCreatedBetween: (fromS, toS) => views.countCreatedBetweenPg(pool, fromS, toS),
      latestCreatedAt: async (source?: JobSource) => {
        const r = source
          ? await pool.query<{ m: number | null }>(
              'SELECT max(created_at) AS m FROM jobs WHERE source = $1',
              [source],
            )
          : await pool.query<{ m: number | null }>('SELECT max(created_at) AS m FROM jobs');
        return r.rows[0]?.m ?? null;
      },
      knownIds: (ids) => knownIdsPg(pool, ids),
      createdAtOf: (ids) => views.createdAtOfPg(pool, ids),
      staleActive: (o) => staleActiveJobsPg(pool, o),
      missingPayload: (o) => jobsMissingPayloadPg(pool, o),
      payloadGaps: (ids, want) => views.payloadGapsPg(pool, ids, want),
      anyMetadataValue: (key) => views.anyMetadataValuePg(pool, key),
    },
    syncState: {
      save: (patch, now, fence) => saveFencedCheckpointPg(pool, patch, now, fence),
      takeFence: (partition, now) => takeFencePg(pool, partition, now),
      get: (partition) => getSyncStatePg(db, partition),
      list: (prefix) => listSyncStatesPg(db, prefix),
    },
    runs: {
      start: (run) => startRunPg(mirror, run),
      finish: (id, totals) => finishRunPg(mirror, id, totals),
      list: (o) => listRunsPg(mirror, o),
      lastSuccessful: (prefix) => lastSuccessfulRunPg(mirror, prefix),
      latestPerPartition: () => views.latestPerPartitionPg(pool),
    },
    quarantine: { list: (o) => listQuarantinePg(db, o) },
    outbox: {
      after: (afterSeq, limit, q) => readMatchingAfterPg(pool, afterSeq, limit, q),
      last: (n, q) => readLastEventsPg(pool, n, q),
      maxSeq: () => maxSeqPg(pool),
      byEventId: (eventId) => readEventByIdPg(pool, eventId),
      count: () => countEventsPg(pool),
    },
    cursors: {
      get: (sink) => readCursorPg(pool, sink),
      set: (sink, seq) => setCursorPg(pool, sink, seq),
      advance: (sink, expected, seq) => advanceCursorPg(pool, sink, expected, seq),
      list: () => listCursorsPg(pool),
      replayFrom: (sink, fromSeq) => replayFromPg(pool, sink, fromSeq),
      disable: (sink, reason) => disableSinkPg(pool, sink, reason),
      enable: (sink) => enableSinkPg(pool, sink),
    },
    deadLetters: {
      record: (d) => recordDeadLetterPg(pool, d),
      list: (o) => listDeadLettersPg(pool, o),
      resolve: (id, attempts) => markDeadLetterResolvedPg(pool, id, attempts),
    },
    views: {
      lastSuccessAt: (task) => views.lastSuccessAtPg(pool, task),
      requestsSince: (sinceMs) => views.requestsSincePg(pool, sinceMs),
      metrics: () => views.metricsSnapshotPg(pool),
      partitions: (limit) => views.partitionsPg(pool, limit),
      runsOf: (partition, limit) => views.runsOfPg(pool, partition, limit),
      upstreamStatusesSince: (sinceMs) => views.upstreamStatusesSincePg(pool, sinceMs),
      recentQuarantine: (limit) => views.recentQuarantinePg(pool, limit),
      deadLetterBriefs: (limit) => views.deadLetterBriefsPg(pool, limit),
      jobTrace: (jobId) => views.jobTracePg(pool, jobId),
      metadataSeqs: (key, value) => views.metadataSeqsPg(pool, key, value),
      jobColumnsAfter: (afterSeq, limit) => views.jobColumnsAfterPg(pool, afterSeq, limit),
      jobColumnsOf: (ids) => views.jobColumnsOfPg(pool, ids),
      eventJobIdsAfter: (afterSeq) => views.eventJobIdsAfterPg(pool, afterSeq),
    },
  };
}
