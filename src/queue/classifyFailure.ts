/**
 * Turn a failed sync task into the worker's decision: retry with backoff, pause the queue for a 429, or stop
 * (BullMQ `UnrecoverableError`) with one line that says what to fix. A failure that no retry can cure (a bad
 * key, a refused parameter, a corrupt database) must not be retried forever nor logged on every tick.
 */
import { RetabApiError } from '../retab/index.ts';

export type FailureKind = 'retry' | 'rate_limited' | 'fatal';

export interface Failure {
  kind: FailureKind;
  /** One line naming the problem and its fix. */
  message: string;
  /** For `rate_limited`: how long every worker of the queue should pause, ms. */
  waitMs?: number;
  /** A `fatal` failure that every partition would hit (the key, the database), not just this one. */
  global?: boolean;
}

interface TaskErrorLike {
  retryable?: boolean;
  cause?: unknown;
  message?: string;
}

/** The first error in a `cause` chain that matches. */
function findCause<T>(err: unknown, match: (e: unknown) => e is T): T | undefined {
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    if (match(cur)) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

const isApiError = (e: unknown): e is RetabApiError => e instanceof RetabApiError;
const isCorruption = (e: unknown): e is Error =>
  e instanceof Error &&
  (/SQLITE_CORRUPT|SQLITE_NOTADB/.test((e as NodeJS.ErrnoException).code ?? '') ||
    /database disk image is malformed|file is not a database/i.test(e.message));

/** Default pause after a 429 that did not say how long to wait. */
export const DEFAULT_RATE_LIMIT_PAUSE_MS = 5000;

export function classifyFailure(err: unknown, ctx: { dbPath: string }): Failure {
  const message = (err as Error)?.message ?? String(err);
  const corrupt = findCause(err, isCorruption);
  if (corrupt) {
    return {
      kind: 'fatal',
      global: true,
      message: `the mirror database ${ctx.dbPath} is corrupt (${corrupt.message}): stop the worker, restore a backup or move the file away (MIRROR_DB) and sync again`,
    };
  }
  const api = findCause(err, isApiError);
  if (api?.status === 401) {
    return {
      kind: 'fatal',
      global: true,
      message: 'upstream rejected the API key (401): set RETAB_API_KEY to a valid key and restart the worker',
    };
  }
  if (api?.status === 403) {
    return {
      kind: 'fatal',
      global: true,
      message:
        'upstream refused access (403): the key in RETAB_API_KEY lacks access to the Jobs API; use a key of the right organisation and restart the worker',
    };
  }
  if (api?.status === 422) {
    return {
      kind: 'fatal',
      message: `upstream rejected the request parameters (422): ${api.message}; check SOURCES, ACTIVE_STATUSES and PAGE_SIZE`,
    };
  }
  if (api?.status === 429) {
    return {
      kind: 'rate_limited',
      message: `upstream rate limit (429) persisted through the client's retries; pausing the queue (lower RATE_LIMIT_RPS or WORKER_CONCURRENCY)`,
      waitMs: api.retryAfterMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS,
    };
  }
  const task = err as TaskErrorLike;
  if (task?.retryable === false || (api !== undefined && !api.retryable)) {
    return { kind: 'fatal', message };
  }
  return { kind: 'retry', message };
}
