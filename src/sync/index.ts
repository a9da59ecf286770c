/** The sync engine: tasks as plain async functions of (deps, options), the catalogue that builds them from the config, and one full in-process pass. */
export { DEFAULT_RESOLVE_BY_DAY_THRESHOLD, runActive } from './active.ts';
export {
  mirrorsAllSources,
  planWindows,
  runSpec,
  type TaskConfig,
  type TaskRequest,
  type TaskSettings,
  type TaskSpec,
  taskConfigOf,
  taskSpecs,
  type WindowRequest,
  windowSources,
} from './catalogue.ts';
export {
  comparePositions,
  type DaySplit,
  type Meeting,
  owns,
  positionOf,
  type WalkSide,
} from './daySplit.ts';
export { runHead } from './head.ts';
export { HYDRATE_DEFAULTS, runHydrate } from './hydrate.ts';
export { mapLimit } from './mapLimit.ts';
export {
  backfillDays,
  isDay,
  lastDays,
  type PartitionSpec,
  partitionKey,
  reconcileDays,
} from './partitions.ts';
export {
  type PassSummary,
  type PassTotals,
  type SyncOnceOptions,
  syncOnce,
  type TaskEvent,
} from './syncOnce.ts';
export { describeError, isRetryable } from './taskRun.ts';
export {
  type ActiveOptions,
  type HeadOptions,
  type HydrateOptions,
  type PageInfo,
  type PayloadMode,
  RUN_COUNTERS,
  type RunSummary,
  type SyncDeps,
  SyncTaskError,
  type TaskName,
  type WindowOptions,
} from './types.ts';
export { probeUpstreamNow } from './upstreamClock.ts';
export { runWindow, WINDOW_BATCH_PAGES } from './window.ts';
