/**
 * The task catalogue: every sync task any runner starts (the in-process pass, the BullMQ processor, the
 * schedulers, `backfill`, the demo's embedded scheduler) is a `TaskSpec` built here, from the config and what
 * to run, and run by `runSpec`. The config → task options mapping (`taskConfigOf`) and the "subset of
 * sources" rule (`windowSources`) are written here and nowhere else.
 *
 * What to run (`TaskRequest`) → specs:
 * - `head` → one head walk (split per source inside `runHead` when only some sources are mirrored);
 * - `active` → one sweep of one status, or of every configured status when none is named;
 * - `hydrate` → one hydrate run;
 * - `window` → exactly that window (day, and source when given);
 * - `history` → one window per day and mirrored source (see `windowSources`), events flagged `backfill`;
 * - `reconcile` → the same over the mutable horizon (`reconcileDays`), each swept again from its start.
 *
 * Failure policy (one, for every runner). `runSpec` records each run in `sync_runs` and returns its summary
 * on success or abort (an abort keeps the checkpoint of the last committed page); on failure it throws a
 * `SyncTaskError` whose `retryable` says whether trying again later can help. What a runner does next follows
 * from what depends on what:
 * - a sequence whose steps build on each other (a pass: history gives head its watermark, head feeds active)
 *   stops at its first failure and reports it (`syncOnce`);
 * - independent windows of one sweep (reconcile in the worker) carry on past a curable failure and report
 *   the first one at the end; a fatal one (bad key, broken database) stops the sweep at once;
 * - a scheduled task that failed runs again at its next tick (BullMQ's retries, or the embedded scheduler's
 *   next due time); nothing is lost, as every task resumes from its checkpoints.
 */
import type { Config } from '../config.ts';
import { type ActiveStatus, type JobSource, SOURCES } from '../retab/index.ts';
import { runActive } from './active.ts';
import type { DaySplit } from './daySplit.ts';
import { runHead } from './head.ts';
import { runHydrate } from './hydrate.ts';
import { partitionKey, reconcileDays } from './partitions.ts';
import type {
  ActiveOptions,
  HeadOptions,
  HydrateOptions,
  PayloadMode,
  RunSummary,
  SyncDeps,
  WindowOptions,
} from './types.ts';
import { runWindow } from './window.ts';

/** What the tasks take from the config: the options every runner passes the same way. */
export interface TaskConfig {
  /** Items per list request (1–100). */
  pageSize: number;
  payloadMode: PayloadMode;
  /** Head overlap, seconds. */
  overlapSeconds: number;
  /** History the head's first run walks back (days); see runHead. */
  backfillDays: number;
  /** Sources to mirror; all when omitted. A strict subset splits head and windows per source. */
  sources?: JobSource[];
  activeStatuses: ActiveStatus[];
  /** Jobs hydrated per payload kind in one run. @default 5000 (HYDRATE_DEFAULTS.limit) */
  hydrateLimit?: number;
}

/** The settings `taskConfigOf` reads. */
export type TaskSettings = Pick<
  Config,
  'pageSize' | 'payloadMode' | 'headOverlapSeconds' | 'backfillDays' | 'sources' | 'activeStatuses'
>;

/** The one config → task options mapping. */
export function taskConfigOf(config: TaskSettings): TaskConfig {
  return {
    pageSize: config.pageSize,
    payloadMode: config.payloadMode,
    overlapSeconds: config.headOverlapSeconds,
    backfillDays: config.backfillDays,
    sources: config.sources,
    activeStatuses: config.activeStatuses,
  };
}

/**
 * The subset-of-sources rule: one window per day covering every source when `sources` is omitted or covers
 * every upstream source, else one per (day, mirrored source), duplicates dropped, in the given order.
 */
export function windowSources(sources: readonly JobSource[] | undefined): (JobSource | undefined)[] {
  if (!sources || SOURCES.every((s) => sources.includes(s))) return [undefined];
  return [...new Set(sources)];
}

/** Whether `sources` covers every upstream source (then one window per day needs no source filter). */
export const mirrorsAllSources = (sources: readonly JobSource[]) => windowSources(sources)[0] === undefined;

/** One window: a UTC day (`YYYY-MM-DD`), optionally one source. */
export interface WindowRequest {
  day: string;
  source?: JobSource;
  /** Sweep from the start even when the checkpoint says done. */
  restart?: boolean;
  /** Flag the window's events as backfill. */
  backfill?: boolean;
  /** `end`: the walk from the end of a dense day (daySplit.ts), queued by the walk from its start. */
  from?: 'end';
}

/** What to run. */
export type TaskRequest =
  | { task: 'head' }
  /** One status, or every configured status when omitted. */
  | { task: 'active'; status?: ActiveStatus }
  | { task: 'hydrate' }
  | ({ task: 'window' } & WindowRequest)
  /** History: these UTC days, oldest first. */
  | { task: 'history'; days: string[] }
  /** The mutable horizon at `now` (unix ms): days touching [now − days d, now]. */
  | { task: 'reconcile'; now: number; days?: number };

/** One task to run: its name, the partition it writes, and the options of its task function. */
export type TaskSpec =
  | { task: 'head'; partition: string; options: HeadOptions }
  | { task: 'active'; partition: string; options: ActiveOptions }
  | { task: 'hydrate'; partition: string; options: HydrateOptions }
  | { task: 'window'; partition: string; options: WindowOptions };

/** The windows of these days, per the subset-of-sources rule; what `history`, `reconcile` and backfill queue. */
export function planWindows(
  sources: readonly JobSource[] | undefined,
  days: readonly string[],
  flags: { restart?: boolean; backfill?: boolean } = {},
): WindowRequest[] {
  const split = windowSources(sources);
  return days.flatMap((day) =>
    split.map((source) => ({
      day,
      ...(source ? { source } : {}),
      ...(flags.restart ? { restart: true } : {}),
      ...(flags.backfill ? { backfill: true } : {}),
    })),
  );
}

function windowSpec(config: TaskConfig, w: WindowRequest): TaskSpec {
  return {
    task: 'window',
    partition: partitionKey({
      task: 'window',
      day: w.day,
      ...(w.source ? { source: w.source } : {}),
      ...(w.from === 'end' ? { from: 'end' as const } : {}),
    }),
    options: {
      day: w.day,
      pageSize: config.pageSize,
      payloadMode: config.payloadMode,
      ...(w.source ? { source: w.source } : {}),
      ...(w.from === 'end' ? { from: 'end' as const } : {}),
      ...(w.restart ? { restart: true } : {}),
      ...(w.backfill ? { backfill: true } : {}),
    },
  };
}

/** The specs of one request, in the order they should run. */
export function taskSpecs(config: TaskConfig, request: TaskRequest): TaskSpec[] {
  switch (request.task) {
    case 'head': {
      const split = windowSources(config.sources);
      return [
        {
          task: 'head',
          partition: 'head',
          options: {
            pageSize: config.pageSize,
            payloadMode: config.payloadMode,
            overlapSeconds: config.overlapSeconds,
            backfillDays: config.backfillDays,
            ...(split[0] === undefined ? {} : { sources: split as JobSource[] }),
          },
        },
      ];
    }
    case 'active': {
      const statuses = request.status === undefined ? config.activeStatuses : [request.status];
      const partition =
        statuses.length === 1 ? partitionKey({ task: 'active', status: statuses[0] }) : 'active';
      return [{ task: 'active', partition, options: { statuses, pageSize: config.pageSize } }];
    }
    case 'hydrate':
      return [
        {
          task: 'hydrate',
          partition: 'hydrate',
          options: {
            payloadMode: config.payloadMode,
            pageSize: config.pageSize,
            ...(config.hydrateLimit ? { limit: config.hydrateLimit } : {}),
          },
        },
      ];
    case 'window':
      return [windowSpec(config, request)];
    case 'history':
      return planWindows(config.sources, request.days, { backfill: true }).map((w) => windowSpec(config, w));
    case 'reconcile':
      return planWindows(config.sources, reconcileDays(request.now, request.days), { restart: true }).map(
        (w) => windowSpec(config, w),
      );
  }
}

/**
 * Run one spec as one recorded task (see the failure policy above). `split`: a window job of a fleet shares
 * its day with a walk from the other end when the day is dense (daySplit.ts); other tasks ignore it.
 */
export function runSpec(deps: SyncDeps, spec: TaskSpec, split?: DaySplit): Promise<RunSummary> {
  switch (spec.task) {
    case 'head':
      return runHead(deps, spec.options);
    case 'active':
      return runActive(deps, spec.options);
    case 'hydrate':
      return runHydrate(deps, spec.options);
    case 'window':
      return runWindow(deps, spec.options, split);
  }
}
