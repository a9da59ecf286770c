/**
 * The PostgreSQL store's functions, one per SQLite operation of ../ (same names + `Pg`, same answers, async):
 * the pieces a `PgStore` implementing the store seam delegates to. Open with `openPgMirror`; `MIRROR_DB` is
 * classified by `parseMirrorLocation`.
 * The copy between stores (`copyMirror`, `CopyEnd`) is exported by ../index.ts.
 */

export { type MirrorLocation, MirrorLocationError, parseMirrorLocation } from '../../mirrorLocation.ts';
export { appendEvents, type NewEvent } from './appendEvents.ts';
export { applyPagePg } from './applyPagePg.ts';
export {
  advanceCursorPg,
  disableSinkPg,
  enableSinkPg,
  getCursorPg,
  listCursorsPg,
  readCursorPg,
  replayFromPg,
  setCursorPg,
} from './cursorsPg.ts';
export {
  listDeadLettersPg,
  markDeadLetterResolvedPg,
  recordDeadLetterPg,
} from './deadLettersPg.ts';
export {
  PG_JOB_ROW_COLUMNS,
  PG_JOB_TABLE_COLUMNS,
  PG_ROW_TO_JOB_COLUMNS,
  PG_STORED_JOB_COLUMNS,
  pgTypeOf,
} from './jobColumnsPg.ts';
export { markMissingPg } from './markMissingPg.ts';
export { PG_MIGRATIONS_FOLDER } from './migratePg.ts';
export {
  describePgError,
  type OpenPgMirrorOptions,
  openPgMirror,
  type PgMirror,
  type PgMirrorDb,
  PgMirrorOpenError,
} from './openPgMirror.ts';
export {
  maxSeqPg,
  readEventByIdPg,
  readEventsAfterPg,
  readLastEventsPg,
  readMatchingAfterPg,
} from './outboxPg.ts';
export { listQuarantinePg, type PgQuarantineRow } from './quarantinePg.ts';
export { getJobPg, iterateJobsPg, type QueryJobsPgOptions, queryJobsPg } from './queryJobsPg.ts';
export {
  countByStatusPg,
  countJobsPg,
  getJobRowPg,
  jobsMissingPayloadPg,
  knownIdsPg,
  latestCreatedAtPg,
  staleActiveJobsPg,
} from './readsPg.ts';
export { finishRunPg, lastSuccessfulRunPg, listRunsPg, type PgSyncRunRow, startRunPg } from './runsPg.ts';
export { type StatsJobsPgOptions, statsJobsPg } from './statsJobsPg.ts';
export { getSyncStatePg, listSyncStatesPg, type PgSyncStateRow, saveCheckpointPg } from './syncStatePg.ts';
