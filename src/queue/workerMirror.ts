/**
 * How a worker opens its mirror: waiting out a database server that is down or starting, with the session
 * settings a fleet needs, and giving the SQLite writer lock back when the start fails.
 */
import { type Backoff, backoffMs, sleep } from '../backoff.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';
import { openStore } from '../mirror/index.ts';

/**
 * The least `idle_in_transaction_session_timeout` of the worker's PostgreSQL sessions, ms: the timeout is
 * LEASE_TTL_MS (a writer frozen inside a transaction past its lease stops stalling the others about when its
 * lease lapses), but never so short that a page's in-memory merge on a loaded machine could meet it.
 */
const MIN_IDLE_IN_TRANSACTION_MS = 1000;

/** Thrown by `startWorker` when its signal aborts before it was up (e.g. SIGTERM while Redis is down). */
export class WorkerStartAborted extends Error {
  override name = 'WorkerStartAborted';
}

/**
 * Open the configured mirror, waiting out a database server that is down or starting (PostgreSQL: the error
 * says `retryable`): one warning line per attempt naming MIRROR_DB (password masked), then capped
 * exponential backoff with jitter (backoff.ts), instead of exiting and being restarted in a loop by PM2 or
 * systemd. Anything else (a bad password, a schema newer than this build, a file that is not a mirror)
 * throws at once: waiting would not fix it.
 * @throws WorkerStartAborted when `opts.signal` aborts while waiting.
 */
export async function openMirrorPatiently(
  config: Config,
  logger: Logger,
  opts: { signal?: AbortSignal | undefined; mirrorRetry?: Backoff | undefined },
): Promise<MirrorStore> {
  const retry = opts.mirrorRetry ?? { minMs: 1000, maxMs: 30_000, below: 0.2, above: 0.2 };
  for (let attempt = 1; ; attempt++) {
    try {
      return await openStore(config.dbPath, {
        poolSize: config.dbPoolSize,
        // A worker frozen inside a page transaction holds its job locks for no longer than about a lease.
        idleInTransactionTimeoutMs: Math.max(MIN_IDLE_IN_TRANSACTION_MS, config.leaseTtlMs),
        onUpgrade: ({ path, pending }) =>
          logger.info({ path, pending }, 'upgrading the mirror schema; large mirrors take a minute'),
      });
    } catch (err) {
      if ((err as { retryable?: boolean }).retryable !== true) throw err;
      const retryInMs = backoffMs(attempt, retry);
      logger.warn({ attempt, retryInMs }, (err as Error).message);
      try {
        await sleep(retryInMs, opts.signal);
      } catch {
        throw new WorkerStartAborted('the worker was stopped while waiting for the mirror database');
      }
    }
  }
}

/** Release the writer lock, then rethrow: for a start that failed after taking it. */
export const unlockAnd =
  (unlock: () => void) =>
  (err: unknown): never => {
    unlock();
    throw err;
  };
