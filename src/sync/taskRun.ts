/**
 * The shell every sync task runs in: records the run in `sync_runs` (started, then success, aborted or
 * failed with its cause: never a failure recorded as a success), counts requests per task through the
 * client's `onAttempt`, applies pages through the mirror and reports them to `onPage`, and turns a failure
 * into a `SyncTaskError` that says whether trying again later can help.
 */
import type { Logger } from '../log.ts';
import { type ApplyPageOptions, type ApplyResult, fencedWriteOf, type RunCounters } from '../mirror/index.ts';
import type { AttemptInfo, Job, RequestOptions } from '../retab/index.ts';
import { RetabApiError, RetabError } from '../retab/index.ts';
import { type PageInfo, type RunSummary, type SyncDeps, SyncTaskError, type TaskName } from './types.ts';
import { trustedClockOffset, warnUntrustedDate } from './upstreamClock.ts';

export interface TaskContext {
  readonly deps: SyncDeps;
  readonly task: TaskName;
  readonly partition: string;
  readonly log: Logger;
  readonly totals: RunCounters;
  /** Unix ms (the injected clock). */
  now(): number;
  /**
   * Upstream's clock, unix ms: `now()` corrected by the offset of the last `Date` header upstream sent in this
   * task (up to 1 s behind: the header has whole seconds). `now()` until an answer arrived, and `now()` again
   * for a header more than 30 days off the machine's clock (ignored with a warning; upstreamClock.ts). Every boundary
   * compared with jobs' `created_at` (history floor, watermark, "day closed") uses it: machines' clocks
   * disagree, and a local "now" ahead of upstream's would skip the jobs created in between.
   */
  upstreamNow(): number;
  /** True once the caller asked to stop: finish the current page, then return. */
  aborted(): boolean;
  /** Options for every client call of this task: the abort signal and the request counter. */
  readonly request: RequestOptions;
  /**
   * Apply jobs in one transaction (rows, events, quarantine, checkpoint), then report them to `onPage`.
   * @param pages list pages these jobs came from (0 for jobs fetched one by one)
   */
  apply(jobs: Job[], opts: ApplyPageOptions, pages?: number): Promise<ApplyResult>;
}

const emptyCounters = (): RunCounters => ({
  requests: 0,
  pages: 0,
  jobs: 0,
  inserted: 0,
  updated: 0,
  events: 0,
  missing: 0,
  quarantined: 0,
});

/**
 * PostgreSQL errors that waiting fixes (SQLSTATE classes and codes, and node-postgres's socket errors): the
 * connection lost or refused (08…, a server shutting down or restarting 57P01–57P03, ECONNREFUSED/RESET),
 * too many connections (53300), a serialization failure or deadlock a retry resolves (40001, 40P01), a
 * transaction the server ended because this process sat paused inside it (25P03, SessionEndedError).
 */
const PG_RETRYABLE =
  /^(08[0-9A-Z]{3}|57P0[123]|25P03|53300|40001|40P01|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)$/;

/**
 * Whether the same task may succeed later: upstream hiccups and a database that is busy or briefly away yes;
 * a bad key, bad params or a broken database no.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof RetabApiError) return err.retryable;
  if (err instanceof RetabError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return code === 'SQLITE_BUSY';
  if (typeof code === 'string' && PG_RETRYABLE.test(code)) return true;
  // node-postgres reports a connection closed under a query without a code.
  return err instanceof Error && /^Connection terminated/.test(err.message);
}

/** What to do about a database error, by SQLite's primary result code (extended codes start with it). */
const SQLITE_HINTS: [string, string][] = [
  ['SQLITE_READONLY', 'check that MIRROR_DB and its folder are writable by this user'],
  ['SQLITE_FULL', 'free disk space where MIRROR_DB lives'],
  ['SQLITE_BUSY', 'another process holds the write lock on MIRROR_DB; one writer per file'],
  ['SQLITE_CORRUPT', 'restore MIRROR_DB from a backup, or point it at a new file and sync again'],
  ['SQLITE_NOTADB', 'point MIRROR_DB at a mirror file or a new path'],
];

/** One line, no stack: what `sync_runs.error` and the CLI show; database errors say what to check. */
export function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return message.replace(/\s+/g, ' ').trim();
  const hint = SQLITE_HINTS.find(([c]) => code === c || code.startsWith(`${c}_`))?.[1];
  return `database error (${code}): ${message}${hint ? ` (${hint})` : ''}`.replace(/\s+/g, ' ').trim();
}

/** PostgreSQL ended the session of a transaction that sat idle too long (SQLSTATE 25P03, SessionEndedError). */
function isSessionEnded(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '25P03';
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (err instanceof Error && err.name === 'AbortError');
}

/**
 * Run `body` as one recorded task. Returns the summary on success or abort (the checkpoint of the last
 * committed page stays); throws `SyncTaskError` on failure, after recording it.
 */
export async function runTask(
  deps: SyncDeps,
  task: TaskName,
  partition: string,
  body: (ctx: TaskContext) => Promise<void>,
): Promise<RunSummary> {
  const now = deps.now ?? Date.now;
  const started = Date.now();
  const log = deps.logger.child({ task, partition });
  const totals = emptyCounters();
  const signal = deps.signal;
  let requestsAtLastPage = 0;
  const statuses: Record<string, number> = {};
  let clockOffsetMs = 0;
  let warnedDate = false;
  const onAttempt = (info: AttemptInfo) => {
    totals.requests++;
    if (info.serverDate !== undefined) {
      const offset = trustedClockOffset(info.serverDate, now());
      if (offset !== undefined) clockOffsetMs = offset;
      else if (!warnedDate) {
        warnedDate = true;
        warnUntrustedDate(log, info.serverDate, now());
      }
    }
    const key = info.status === undefined ? 'network' : String(info.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  };
  const request: RequestOptions = signal ? { signal, onAttempt } : { onAttempt };
  const ctx: TaskContext = {
    deps,
    task,
    partition,
    log,
    totals,
    now,
    upstreamNow: () => now() + clockOffsetMs,
    aborted: () => signal?.aborted === true,
    request,
    async apply(jobs, opts, pages = 1) {
      const result = await deps.mirror.jobs.applyPage(jobs, { partition, ...opts });
      totals.pages += pages;
      totals.jobs += jobs.length;
      totals.inserted += result.inserted;
      totals.updated += result.updated;
      totals.events += result.events;
      totals.quarantined += result.quarantined;
      const info: PageInfo = {
        task,
        partition,
        jobs: jobs.length,
        inserted: result.inserted,
        updated: result.updated,
        events: result.events,
        requests: totals.requests - requestsAtLastPage,
      };
      requestsAtLastPage = totals.requests;
      try {
        deps.onPage?.(info);
      } catch (err) {
        // A listener must never break the sync loop: the page is committed either way.
        log.warn({ err }, 'onPage listener threw; ignored');
      }
      return result;
    },
  };

  const runId = await deps.mirror.runs.start({ task, partition, startedAt: now() });
  const finish = async (outcome: RunSummary['outcome'], error?: string): Promise<RunSummary> => {
    const summary: RunSummary = {
      task,
      partition,
      ...totals,
      durationMs: Date.now() - started,
      outcome,
      ...(error === undefined ? {} : { error }),
    };
    try {
      await deps.mirror.runs.finish(runId, {
        ...totals,
        outcome,
        error: error ?? null,
        upstreamStatuses: statuses,
        finishedAt: now(),
      });
    } catch (err) {
      log.error({ err }, 'could not record the end of the run in sync_runs');
    }
    return summary;
  };

  try {
    await body(ctx);
  } catch (err) {
    // A write refused by fencing first: its lease is usually found lost (the signal aborted) meanwhile too,
    // but what the run must report is that another worker took the partition over. Its caller (the
    // processor) logs that once, at warn.
    const fenced = fencedWriteOf(err);
    if (fenced) throw new SyncTaskError(await finish('failed', fenced.message), fenced, false);
    // The server ended a transaction this process sat paused in (its lease usually lapsed meanwhile too): not
    // an abort but a failed run, retried; its caller logs it once (the worker: "failed, will retry").
    if (isSessionEnded(err)) {
      const message = describeError(err);
      throw new SyncTaskError(await finish('failed', message), err, true);
    }
    if (isAbort(err, signal)) {
      log.info({ requests: totals.requests, pages: totals.pages }, 'aborted; checkpoint kept');
      return finish('aborted');
    }
    const message = describeError(err);
    const summary = await finish('failed', message);
    // Upstream errors are expected failures: their message says it all. Anything else may be a bug: keep the stack.
    const detail = err instanceof RetabError ? { errorName: (err as Error).name } : { err };
    log.error({ ...detail, requests: totals.requests, pages: totals.pages }, `${task} failed: ${message}`);
    throw new SyncTaskError(summary, err, isRetryable(err));
  }
  if (signal?.aborted) {
    log.info({ requests: totals.requests, pages: totals.pages }, 'aborted; checkpoint kept');
    return finish('aborted');
  }
  const summary = await finish('success');
  log.debug({ ...totals, durationMs: summary.durationMs }, `${task} done`);
  return summary;
}
