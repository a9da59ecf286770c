/**
 * retab-mirror as a library: a deliberate surface, pinned by test/library/surface.test.ts.
 *
 * - the facades: `openRetabMirror` / `createRetabMirror` (in-process sync, offline queries, typed events;
 *   the first on every store, the second SQLite only and synchronous) and `startWorker`
 *   (scheduled mirroring on BullMQ), with `loadConfig` and the `Config` they take;
 * - the types a caller handles: jobs, list parameters and pages (`JobList`), stats options and results,
 *   sync options, events and their listeners, run and pass summaries, and `MirrorStore`
 *   (the type of `RetabMirror.mirror` and `startWorker`'s `mirror` option);
 * - every error class the library throws (`MirrorOpenError` when the mirror cannot be opened), so `instanceof`
 *   works (each class exists once);
 * - `verifyWebhookSignature` for webhook receivers;
 * - `startSimulator`, the local Retab Jobs API, for a user's own tests.
 *
 * Anything else (the sync tasks, the store, the server, the client internals) is internal and may change;
 * the CLI (`retab-mirror …`) covers what a shell needs.
 */
export { type Config, ConfigError, loadConfig } from './config.ts';
export type { MirrorEvent, MirrorEventMap, MirrorEventName, MirrorListener } from './events/index.ts';
export { EventsConfigError, verifyWebhookSignature } from './events/index.ts';
export {
  MirrorOpenError,
  type MirrorStore,
  type StatsOptions,
  type StatsResult,
  type StatsRow,
} from './mirror/index.ts';
export { startWorker } from './queue/index.ts';
export {
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  InternalServerError,
  InvalidCursorError,
  InvalidResponseError,
  type Job,
  type JobList,
  type JobStatus,
  type JobWarning,
  type KnownJobStatus,
  type ListJobsParams,
  type ListMetadata,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RetabApiError,
  RetabConfigError,
  RetabError,
  RetabParamsError,
  TimeoutError,
  UnprocessableEntityError,
} from './retab/index.ts';
export {
  createRetabMirror,
  openRetabMirror,
  type RetabMirror,
  type RetabMirrorOptions,
  type RetabMirrorSyncOptions,
} from './retabMirror.ts';
export { type Simulator, startSimulator } from './simulator/index.ts';
export type { PassSummary, RunSummary, SyncOnceOptions } from './sync/index.ts';
export { SyncTaskError } from './sync/index.ts';
