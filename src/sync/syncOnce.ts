/**
 * One full pass, in-process, no Redis: what `retab-mirror sync` runs, and what a test calls to bring a
 * mirror up to date.
 *
 * Why four tasks. Upstream lists jobs ordered by `created_at` only, and has no "updated since" filter; yet a
 * job changes long after it was created (validating → queued → in_progress → completed | failed, cancelled,
 * expired), and terminal is not final (a retry puts it back to `queued` under the same id and `created_at`).
 * No single ordered walk can therefore see every change cheaply, so the work is split by what can change:
 *
 * - head: creation is the one thing the ordering shows. Newest first down to the watermark (minus an
 *   overlap for jobs that became visible late): O(new jobs / page size) per run.
 * - active: every other change starts from an in-flight job, and upstream can filter by status. Listing the
 *   non-terminal statuses costs O(in-flight / page size); a retried job is in-flight again and shows up there.
 *   Jobs the mirror holds as in-flight that the sweep no longer sees have finished (or were deleted): only
 *   those are fetched, by id or by re-listing their creation day, whichever is cheaper.
 * - window: history, and anything a creation-ordered walk can pin down durably: one closed UTC day, oldest
 *   first, resumable from its cursor (new jobs never land in a closed day, so cursors stay valid).
 * - reconcile: what active cannot see: a whole cycle between two sweeps (failed → retry → queued → failed
 *   again, with new timestamps), or a sweep that missed a job moving under its cursor. Re-sweeping the windows
 *   of the mutable horizon (the last 7 days: `expires_at` is creation + 7 d) on a slow schedule bounds how
 *   long such a miss can last.
 * - hydrate: lightweight listings (active, windows in `none` mode) carry no request; fetch it once.
 *
 * The steady-state cost of a head + active cycle is thus O(changes / page size) plus one request per job that
 * left the in-flight set, never O(jobs mirrored).
 *
 * Pass order: history windows (when asked: they give head a watermark, so head does not walk the same
 * history again) → head → active → reconcile windows (when asked) → hydrate.
 *
 * A pass never throws for a task failure: it stops at the first failed task and returns `outcome: 'failed'`
 * with the cause (the run is recorded as failed in `sync_runs`). An abort stops it after the current page
 * with `outcome: 'aborted'`; running the pass again continues from the checkpoints.
 */
import type { JobStatus } from '../retab/index.ts';
import { runSpec, type TaskConfig, type TaskRequest, type TaskSpec, taskSpecs } from './catalogue.ts';
import { mapLimit } from './mapLimit.ts';
import { describeError, isRetryable } from './taskRun.ts';
import { RUN_COUNTERS, type RunSummary, type SyncDeps, SyncTaskError } from './types.ts';
import { probeUpstreamNow } from './upstreamClock.ts';

/** The pass: what the tasks take from the config (see `taskConfigOf`), and which extra work to do. */
export interface SyncOnceOptions extends TaskConfig {
  /** History as window tasks (UTC days), swept before head; done windows are skipped. */
  windowDays?: string[];
  /** Re-sweep the days of the mutable horizon from their start, even where done. @default false */
  reconcile?: boolean;
  /** Days reconcile covers (days touching [now − n d, now]). @default 7 */
  reconcileDays?: number;
  /** Windows swept at once (fetches overlap; writes stay serial). @default 2 */
  windowConcurrency?: number;
  /** Called before each task starts and after each ends (progress displays). Must not throw. */
  onTask?: (event: TaskEvent) => void;
}

export interface TaskEvent {
  phase: 'start' | 'end';
  task: RunSummary['task'];
  partition: string;
  /** Set on `end`. */
  summary?: RunSummary;
  windowsDone: number;
  windowsTotal: number;
}

export type PassTotals = Pick<
  RunSummary,
  'requests' | 'pages' | 'jobs' | 'inserted' | 'updated' | 'events' | 'missing' | 'quarantined'
>;

export interface PassSummary {
  outcome: 'success' | 'failed' | 'aborted';
  /** One line: the first failure's cause. */
  error?: string;
  /** Whether running the pass again later may succeed (upstream hiccup vs bad key or broken database). */
  retryable?: boolean;
  tasks: RunSummary[];
  totals: PassTotals;
  /** Windows swept (or skipped as already done) of those planned. */
  windows: { done: number; total: number };
  /** The whole mirror after the pass; empty when it could not be read. */
  jobsByStatus: Partial<Record<JobStatus, number>>;
  durationMs: number;
}

class PassStop extends Error {}

export async function syncOnce(deps: SyncDeps, opts: SyncOnceOptions): Promise<PassSummary> {
  const started = Date.now();
  const now = deps.now ?? Date.now;
  const tasks: RunSummary[] = [];
  const config: TaskConfig = opts;
  const history = taskSpecs(config, { task: 'history', days: opts.windowDays ?? [] });
  const reconcile = opts.reconcile
    ? taskSpecs(config, {
        task: 'reconcile',
        // Reconcile's days are counted on upstream's clock (upstreamClock.ts), not the machine's.
        now: await probeUpstreamNow(
          deps.client,
          now,
          deps.logger,
          deps.signal ? { signal: deps.signal } : {},
        ),
        days: opts.reconcileDays ?? 7,
      })
    : [];
  const windows = { done: 0, total: history.length + reconcile.length };
  let failure: { error: string; retryable: boolean } | undefined;

  const notify = (event: Omit<TaskEvent, 'windowsDone' | 'windowsTotal'>) => {
    try {
      opts.onTask?.({ ...event, windowsDone: windows.done, windowsTotal: windows.total });
    } catch {
      // A progress display must never break the pass.
    }
  };
  // The pass's failure policy (catalogue.ts): its steps build on each other, so it stops at the first failure.
  const step = async (spec: TaskSpec) => {
    if (deps.signal?.aborted || failure) throw new PassStop();
    notify({ phase: 'start', task: spec.task, partition: spec.partition });
    let summary: RunSummary;
    try {
      summary = await runSpec(deps, spec);
    } catch (err) {
      if (err instanceof SyncTaskError) {
        tasks.push(err.summary);
        failure ??= { error: err.summary.error ?? err.message, retryable: err.retryable };
      } else {
        failure ??= { error: describeError(err), retryable: isRetryable(err) };
      }
      throw new PassStop();
    }
    tasks.push(summary);
    if (spec.task === 'window' && summary.outcome === 'success') windows.done++;
    notify({ phase: 'end', task: spec.task, partition: summary.partition, summary });
    if (summary.outcome === 'aborted') throw new PassStop();
  };
  const sweep = (list: TaskSpec[]) => mapLimit(list, opts.windowConcurrency ?? 2, step);
  const one = (request: TaskRequest) => step(taskSpecs(config, request)[0] as TaskSpec);

  try {
    await sweep(history);
    await one({ task: 'head' });
    await one({ task: 'active' });
    await sweep(reconcile);
    await one({ task: 'hydrate' });
  } catch (err) {
    if (!(err instanceof PassStop)) failure ??= { error: describeError(err), retryable: isRetryable(err) };
  }

  const totals = Object.fromEntries(
    RUN_COUNTERS.map((k) => [k, tasks.reduce((n, t) => n + t[k], 0)]),
  ) as PassTotals;
  let jobsByStatus: PassSummary['jobsByStatus'] = {};
  try {
    jobsByStatus = await deps.mirror.jobs.countByStatus();
  } catch (err) {
    failure ??= { error: describeError(err), retryable: false };
  }
  const aborted = deps.signal?.aborted === true || tasks.some((t) => t.outcome === 'aborted');
  return {
    outcome: failure ? 'failed' : aborted ? 'aborted' : 'success',
    ...(failure ? failure : {}),
    tasks,
    totals,
    windows,
    jobsByStatus,
    durationMs: Date.now() - started,
  };
}
