/**
 * The sync engine's contract: what a task needs (`SyncDeps`), what it reports (`RunSummary`, `PageInfo`) and
 * the options of each task. BullMQ processors, the CLI and the tests all call the same task functions.
 */
import type { PayloadMode } from '../config.ts';
import type { Logger } from '../log.ts';
import type { MirrorStore, RunCounters } from '../mirror/index.ts';
import type { ActiveStatus, JobSource, RetabClient } from '../retab/index.ts';

export type { PayloadMode } from '../config.ts';

export interface SyncDeps {
  client: RetabClient;
  /** The mirror (any `MirrorStore`: SQLite today, PostgreSQL with #21). */
  mirror: MirrorStore;
  /** A pino logger; each task logs through a child with `{ task, partition }`. */
  logger: Logger;
  /** Unix ms. Tests pass the simulator's clock. @default Date.now */
  now?: () => number;
  /** Abort = the current page's transaction finishes (checkpoint included), then the task stops. */
  signal?: AbortSignal;
  /** Called after each committed page (progress bars, the events dispatcher's `notify()`). Must not throw. */
  onPage?: (info: PageInfo) => void;
}

/** The counters a run adds up (RunSummary fields); passes and reconcile sum them across runs. */
export const RUN_COUNTERS = [
  'requests',
  'pages',
  'jobs',
  'inserted',
  'updated',
  'events',
  'missing',
  'quarantined',
] as const satisfies readonly (keyof RunCounters)[];

export type TaskName = 'head' | 'active' | 'window' | 'hydrate' | 'resolve';

export interface PageInfo {
  task: string;
  partition: string;
  /** Valid jobs on the page. */
  jobs: number;
  inserted: number;
  updated: number;
  events: number;
  /** HTTP attempts that produced this page (retries included). */
  requests: number;
}

export interface RunSummary extends RunCounters {
  task: TaskName;
  /** `head`, `active:queued`, `window:2026-11-01`, `window:2026-11-01:source=api`, `hydrate`. */
  partition: string;
  durationMs: number;
  outcome: 'success' | 'failed' | 'aborted';
  error?: string;
}

/** Thrown by a task that failed; the run is already recorded as failed in `sync_runs`. */
export class SyncTaskError extends Error {
  override name = 'SyncTaskError';
  /** Worth retrying later (rate limits, 5xx, network) as opposed to a bad key or a broken database. */
  readonly retryable: boolean;
  constructor(
    readonly summary: RunSummary,
    override readonly cause: unknown,
    retryable: boolean,
  ) {
    super(`${summary.task} ${summary.partition} failed: ${summary.error ?? 'unknown error'}`);
    this.retryable = retryable;
  }
}

export interface HeadOptions {
  /** Items per list request (1–100). */
  pageSize: number;
  /** `none` lists lightweight; `request`/`full` ask for `include_request`. */
  payloadMode: PayloadMode;
  /** How far behind the watermark the head re-reads (jobs that became visible late). @default 300 */
  overlapSeconds: number;
  /** History the first run walks back (days); 0 = only jobs created from the first run on. */
  backfillDays: number;
  /** Mirror only these sources (one head walk per source); all when omitted. */
  sources?: JobSource[];
}

export interface ActiveOptions {
  /** Non-terminal statuses to sweep. */
  statuses: ActiveStatus[];
  pageSize: number;
  /**
   * Vanished jobs of one creation day are resolved by re-listing that day instead of one `GET` each when at
   * least this many share the day *and* the day's listing is estimated to cost fewer requests.
   * @default 5
   */
  resolveByDayThreshold?: number;
  /** Parallel `GET /v1/jobs/{id}` when resolving one by one. @default 4 */
  concurrency?: number;
}

export interface WindowOptions {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  /** Only this source (the partition key says so). */
  source?: JobSource;
  pageSize: number;
  payloadMode: PayloadMode;
  /** Walk from the beginning even when the checkpoint says done (reconcile). @default false */
  restart?: boolean;
  /**
   * `end`: the walk from the end of a dense day (`order=desc`, partition `window:<day>:desc`), queued by the
   * walk from its start through a `DaySplit` (daySplit.ts). @default 'start'
   */
  from?: 'start' | 'end';
  /** Events are flagged `backfill` (alert rules ignore them by default). @default false */
  backfill?: boolean;
  /**
   * Pages written per transaction (each whole, with the checkpoint of the last). Fewer commits cut a cold
   * backfill's write CPU (measured: 5 pages ≈ −25% vs 1); more pages held cost memory; a crash re-fetches
   * at most one batch.
   * @default 5
   */
  batchPages?: number;
}

export interface HydrateOptions {
  /** `none` does nothing; `request` fetches missing requests; `full` also responses of completed jobs. */
  payloadMode: PayloadMode;
  /** Jobs hydrated per run, per payload kind. @default 5000 */
  limit?: number;
  /** Parallel requests. @default 4 */
  concurrency?: number;
  /** Same meaning as in `ActiveOptions`. @default 5 */
  resolveByDayThreshold?: number;
  /** List page size for day listings (capped at 20 with responses). @default 100 */
  pageSize?: number;
}
