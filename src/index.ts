/**
 * retab-mirror as a library. Most programs need only `createRetabMirror` (in-process sync, offline queries,
 * typed events) or `startWorker` (scheduled mirroring on BullMQ); the layers below are exported for those
 * who compose their own.
 */
export { type Config, ConfigError, loadConfig } from './config.ts';
export type { MirrorEvent, MirrorEventMap, MirrorEventName } from './events/index.ts';
export {
  createDispatcher,
  EventsConfigError,
  MirrorEvents,
  signWebhookPayload,
  verifyWebhookSignature,
} from './events/index.ts';
export { createLogger } from './log.ts';
export { type Mirror, openMirror } from './mirror/openMirror.ts';
export { getJob, queryJobs } from './mirror/queryJobs.ts';
export { statsJobs } from './mirror/statsJobs.ts';
export { startWorker } from './queue/worker.ts';
export * from './retab/index.ts';
export { createRetabMirror, type RetabMirror, type RetabMirrorOptions } from './retabMirror.ts';
export { createServer, startServer } from './server/createServer.ts';
export { startSimulator } from './simulator/index.ts';
export type { PassSummary, RunSummary, SyncDeps } from './sync/index.ts';
export { runActive, runHead, runHydrate, runWindow, syncOnce } from './sync/index.ts';
