/**
 * The BullMQ processor of the `sync` queue: a thin shell that parses a job's data, takes the partition's
 * lock and calls the matching sync task. What BullMQ should do next is decided here, once:
 *
 * - success → the job completes with the task's summary;
 * - the partition's lease lost mid-run (another worker took it over) → logged once at warn; the task aborts
 *   at its next page; a write it still attempts is refused by fencing (`FencedWriteError`): the run ends as
 *   skipped, logged once at warn, not retried (the new holder does the work);
 * - abort at shutdown → a window job goes back to the delayed set (not an attempt), so the next worker
 *   resumes it from its checkpoint; a scheduled tick just completes (the scheduler queues the next one);
 * - a fault no retry can cure (401, 403, 422, corrupt database) → `UnrecoverableError`, logged once with the fix;
 * - an upstream 429 that outlived the client's retries → the whole queue pauses (`queue.rateLimit`) and the
 *   job goes back to waiting without spending an attempt;
 * - anything else → thrown as is: BullMQ retries it with exponential backoff.
 */
import { DelayedError, type Job, type Processor, UnrecoverableError, Worker } from 'bullmq';
import type { Config } from '../config.ts';
import { fencedStore, fencedWriteOf } from '../mirror/index.ts';
import {
  type DaySplit,
  probeUpstreamNow,
  RUN_COUNTERS,
  type RunSummary,
  runSpec,
  type SyncDeps,
  type TaskSpec,
  taskConfigOf,
  taskSpecs,
} from '../sync/index.ts';
import { classifyFailure, DEFAULT_RATE_LIMIT_PAUSE_MS } from './classifyFailure.ts';
import { FatalGate, type GateTicket } from './fatalGate.ts';
import { partitionOf, type SyncJobData, SyncJobDataSchema } from './jobData.ts';
import { inProcessGuard, type PartitionGuard, type PartitionHold } from './partitionLocks.ts';

export type SyncConfig = Pick<
  Config,
  'pageSize' | 'payloadMode' | 'headOverlapSeconds' | 'backfillDays' | 'sources' | 'activeStatuses' | 'dbPath'
>;

/** What a reconcile job reports: the sum of its window sweeps. */
export interface ReconcileSummary extends Omit<RunSummary, 'task'> {
  task: 'reconcile';
  windows: number;
}

export interface SkippedRun {
  partition: string;
  outcome: 'skipped';
  reason: string;
}

export type SyncJobResult = RunSummary | ReconcileSummary | SkippedRun;

export interface ProcessorDeps {
  config: SyncConfig;
  /** What every task gets; the processor adds each job's abort signal. */
  sync: Omit<SyncDeps, 'signal'>;
  /** Aborted when the worker shuts down: running tasks commit their page, checkpoint and return. */
  shutdown: AbortSignal;
  /**
   * Who may run a partition: leases in Redis across a fleet (partitionLeases.ts; fenced writes) or an
   * in-process lock (partitionLocks.ts). @default inProcessGuard()
   */
  locks?: PartitionGuard;
  gate?: FatalGate;
  /** Pause every worker of the queue for `ms` (BullMQ's global rate limit) after an upstream 429. */
  rateLimit?: (ms: number) => Promise<void>;
  /**
   * The split a queued window job shares with the walk from the other end of its day when the day is dense
   * (src/sync/daySplit.ts). Not given (tests, no fleet): every window is one walk.
   */
  daySplit?: (window: WindowJobData) => DaySplit;
}

type WindowJobData = Extract<SyncJobData, { task: 'window' }>;

function parseJobData(job: Job): SyncJobData {
  const parsed = SyncJobDataSchema.safeParse({ ...job.data, ...(job.data?.task ? {} : { task: job.name }) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UnrecoverableError(
      `job ${job.id} (${job.name}) has data this version cannot run: ${issue?.path.join('.') || 'data'}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

async function requeue(job: Job, token: string): Promise<never> {
  await job.moveToDelayed(Date.now(), token);
  throw new DelayedError();
}

export function createProcessor(deps: ProcessorDeps): Processor<SyncJobData, SyncJobResult> {
  const locks = deps.locks ?? inProcessGuard();
  const gate = deps.gate ?? new FatalGate(deps.sync.logger);
  const { config } = deps;
  // A committed page proves upstream accepts the key and the mirror takes writes: open the gate.
  const sync: ProcessorDeps['sync'] = {
    ...deps.sync,
    onPage: (info) => {
      gate.verified();
      deps.sync.onPage?.(info);
    },
  };

  const tasks = taskConfigOf(config);

  /**
   * Run `spec` under `hold`: it aborts when the hold is lost, and with a fencing guard every page and
   * checkpoint it writes carries the token taken now. The task reads its checkpoint after this, from the
   * store: it resumes from what the previous holder committed.
   */
  async function runHeld(
    hold: PartitionHold,
    signal: AbortSignal,
    spec: TaskSpec,
    split?: DaySplit,
  ): Promise<RunSummary> {
    const runSignal = hold.signal ? AbortSignal.any([signal, hold.signal]) : signal;
    let mirror = sync.mirror;
    if (locks.fencing) {
      const token = await mirror.syncState.takeFence(spec.partition);
      mirror = fencedStore(mirror, { partition: spec.partition, token }, hold.signal);
    }
    // Said once, when it happens: from here the task writes nothing more (fence.ts's guard, then its fence).
    const lost = () =>
      sync.logger.warn(
        { partition: spec.partition, reason: (hold.signal?.reason as Error | undefined)?.message },
        `lease of partition ${spec.partition} lost while running: this run stops and writes nothing more; another worker resumes from the last checkpoint`,
      );
    hold.signal?.addEventListener('abort', lost, { once: true });
    try {
      return await runSpec({ ...sync, mirror, signal: runSignal }, spec, split);
    } finally {
      hold.signal?.removeEventListener('abort', lost);
    }
  }

  /** Window specs wait for their partition's lock (reconcile and a queued window may share a day). */
  async function windowRun(signal: AbortSignal, spec: TaskSpec, split?: DaySplit): Promise<RunSummary> {
    const hold = await locks.acquire(spec.partition, signal);
    try {
      return await runHeld(hold, signal, spec, split);
    } finally {
      await hold.release();
    }
  }

  /** Log a write refused by fencing once, at warn (the run then ends as skipped, not retried). */
  function warnFenced(err: unknown, ctx: object): boolean {
    const fenced = fencedWriteOf(err);
    if (fenced)
      sync.logger.warn({ ...ctx, fence: fenced.token, currentFence: fenced.current }, fenced.message);
    return fenced !== undefined;
  }

  /**
   * Re-sweep the mutable horizon, one window at a time. Independent windows (catalogue.ts's failure policy):
   * a curable failure does not stop the other days and is thrown at the end; a fatal one stops the sweep.
   */
  async function reconcile(signal: AbortSignal, days: number | undefined): Promise<ReconcileSummary> {
    const started = Date.now();
    const total: ReconcileSummary = {
      task: 'reconcile',
      partition: 'reconcile',
      windows: 0,
      ...(Object.fromEntries(RUN_COUNTERS.map((k) => [k, 0])) as Record<(typeof RUN_COUNTERS)[number], 0>),
      durationMs: 0,
      outcome: 'success',
    };
    let firstError: unknown;
    const now = sync.now ?? Date.now;
    // The mutable horizon is counted on upstream's clock (upstreamClock.ts), not the machine's.
    const upstreamNow = await probeUpstreamNow(sync.client, now, sync.logger, { signal });
    for (const spec of taskSpecs(tasks, { task: 'reconcile', now: upstreamNow, ...(days ? { days } : {}) })) {
      if (signal.aborted) break;
      try {
        const s = await windowRun(signal, spec);
        total.windows++;
        for (const k of RUN_COUNTERS) total[k] += s[k];
        if (s.outcome === 'aborted') total.outcome = 'aborted';
      } catch (err) {
        if (warnFenced(err, { partition: spec.partition })) continue; // its new holder sweeps that day
        if (classifyFailure(err, config).kind === 'fatal') throw err;
        firstError ??= err;
      }
    }
    total.durationMs = Date.now() - started;
    if (signal.aborted) total.outcome = 'aborted';
    if (firstError !== undefined && total.outcome !== 'aborted') throw firstError;
    return total;
  }

  async function run(
    data: SyncJobData,
    signal: AbortSignal,
    hold: PartitionHold | undefined,
  ): Promise<RunSummary | ReconcileSummary> {
    switch (data.task) {
      case 'reconcile':
        return reconcile(hold?.signal ? AbortSignal.any([signal, hold.signal]) : signal, data.days);
      case 'window': {
        // A restarted window sweeps the day again alone: the claims of an earlier sweep must not trim it.
        const split = data.restart ? undefined : deps.daySplit?.(data);
        return windowRun(signal, taskSpecs(tasks, data)[0] as TaskSpec, split);
      }
      default:
        return runHeld(hold as PartitionHold, signal, taskSpecs(tasks, data)[0] as TaskSpec);
    }
  }

  return async (job, token, jobSignal) => {
    const data = parseJobData(job);
    const partition = partitionOf(data);
    const ctx = { jobId: job.id, partition };
    if (data.task === 'active' && !config.activeStatuses.includes(data.status)) {
      // A tick queued before the status was dropped from ACTIVE_STATUSES.
      return { partition, outcome: 'skipped', reason: 'status not in ACTIVE_STATUSES' };
    }
    // Window jobs wait their turn (reconcile may be sweeping the same day); a scheduled tick whose previous
    // run is still going is redundant, so it steps aside.
    let hold: PartitionHold | undefined;
    if (data.task !== 'window') {
      hold = await locks.tryAcquire(partition);
      if (!hold) {
        sync.logger.debug(ctx, 'previous run of this partition still going; tick skipped');
        return { partition, outcome: 'skipped', reason: 'previous run still going' };
      }
    }
    const signal = jobSignal ? AbortSignal.any([deps.shutdown, jobSignal]) : deps.shutdown;
    let ticket: GateTicket | undefined;
    try {
      ticket = await gate.enter(signal);
      if ('blocked' in ticket) throw new UnrecoverableError(ticket.blocked);
      // A window stopped by the shutdown goes back to the delayed set without spending an attempt: whoever
      // runs next resumes its checkpoint. (Its job id stays taken, so a completed-but-unfinished window
      // could never be queued again.)
      const requeueWindow = data.task === 'window' && token !== undefined;
      if ('aborted' in ticket) {
        if (requeueWindow) await requeue(job, token);
        return { partition, outcome: 'skipped', reason: 'worker shutting down' };
      }
      const summary = await run(data, signal, hold);
      // Only a run that reached upstream proves the key works (hydrate may have had nothing to fetch).
      if (summary.outcome === 'success' && summary.requests > 0) gate.verified();
      // Aborted although neither the worker nor BullMQ asked: its lease was lost (Redis unreachable for a TTL,
      // or taken over). Requeued too, so a backfill day is never left half-swept; a new holder makes it a no-op.
      const leaseLost = !signal.aborted;
      if (summary.outcome === 'aborted' && (deps.shutdown.aborted || leaseLost) && requeueWindow)
        await requeue(job, token);
      return summary;
    } catch (err) {
      if (err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
      if (warnFenced(err, ctx))
        return { partition, outcome: 'skipped', reason: 'fenced: another worker took the partition over' };
      const failure = classifyFailure(err, config);
      if (failure.kind === 'fatal') {
        gate.report(failure.message, ctx, failure.global === true);
        throw new UnrecoverableError(failure.message);
      }
      if (failure.kind === 'rate_limited' && deps.rateLimit) {
        sync.logger.warn({ ...ctx, pauseMs: failure.waitMs }, failure.message);
        // BullMQ (Redis PX) takes a positive integer only; the client already normalised Retry-After so.
        await deps.rateLimit(Math.max(1, Math.ceil(failure.waitMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS)));
        throw Worker.RateLimitError();
      }
      throw err;
    } finally {
      if (ticket && 'done' in ticket) ticket.done();
      await hold?.release();
    }
  };
}
