/**
 * The mirror: the store seam (`MirrorStore`, `openStore`) every other folder goes through, and the synchronous
 * SQLite functions behind it (for src/mirror/ itself, its tests and benchmarks).
 */

export { type MirrorLocation, MirrorLocationError, parseMirrorLocation } from '../mirrorLocation.ts';
export { applyPage } from './applyPage.ts';
export { FencedWriteError, type FenceToken, fencedStore, fencedWriteOf } from './fence.ts';
export {
  type ColumnType,
  JOB_COLUMN_ENTRIES,
  JOB_COLUMNS,
  type JobColumn,
  type JobColumnValues,
} from './jobColumns.ts';
export { type JobDraft, type JobFileRow, jobSnapshot, jobToRow } from './jobToRow.ts';
export { type MarkMissingOptions, markMissing } from './markMissing.ts';
export { type MergePlan, mergeObservation, type StoredJob } from './mergeObservation.ts';
export {
  MIGRATIONS_FOLDER,
  type Mirror,
  type MirrorDb,
  MirrorOpenError,
  openMirror,
  truncateWal,
} from './openMirror.ts';
export { displayLocation, type OpenStoreOptions, openStore, storeKindOf } from './openStore.ts';
export { EVENT_TYPES, type EventPayload, eventId } from './outbox.ts';
export {
  type CopyEnd,
  type CopyMirrorOptions,
  type CopyPlan,
  type CopyProgress,
  CopyTargetError,
  CopyVerifyError,
  copyMirror,
  openCopyEnd,
  planCopy,
} from './pg/copyMirror.ts';
export { MAX_STATEMENTS, prepared } from './prepared.ts';
export { listQuarantine } from './quarantine.ts';
export { getJob, queryJobs } from './queryJobs.ts';
export {
  countByStatus,
  countJobs,
  getJobRow,
  jobsMissingPayload,
  knownIds,
  latestCreatedAt,
  type StaleActiveJob,
  staleActiveJobs,
} from './reads.ts';
export { type JobRow, rowToJob } from './rowToJob.ts';
export {
  finishRun,
  lastSuccessfulRun,
  listRuns,
  ORPHANED_RUN_ERROR,
  startRun,
} from './runs.ts';
export { SqliteStore } from './sqlite/sqliteStore.ts';
export type { StatsOptions, StatsResult, StatsRow } from './statsJobs.ts';
export { statsJobs } from './statsJobs.ts';
export { parseStatsQuery, validateStatsOptions } from './statsQuery.ts';
export type * from './store.ts';
export { getSyncState, listSyncStates, saveCheckpoint } from './syncState.ts';
export { type StatusStep, transitionSteps } from './transitions.ts';
export type * from './types.ts';
export { watchMirrorFile } from './watchMirrorFile.ts';
export {
  lockMirrorWriter,
  MirrorWriterBusy,
  type WriterLockHolder,
  type WriterRole,
} from './writerLock.ts';
