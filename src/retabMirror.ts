/**
 * The library facade: one object that owns a mirror, a client and the in-process event emitter, so a
 * program can `await m.sync()`, `m.on('job.status_changed', …)` and `await m.list({ status: 'failed' })`
 * without wiring the layers itself. Scheduled mirroring (BullMQ) is `startWorker`; this is the in-process
 * shape.
 *
 * Two ways to make one: `await openRetabMirror()` works on every store (an SQLite file or
 * `MIRROR_DB=postgres://…`: a server database is opened, and migrated, over the network);
 * `createRetabMirror()` opens an SQLite file synchronously, as before. Either way the reads (`list`, `get`,
 * `stats`) return promises, since a server database answers over a socket (a breaking change from 0.1,
 * where they answered synchronously over SQLite).
 */
import { type Config, loadConfig } from './config.ts';
import {
  createDispatcher,
  DrainTimeoutError,
  type MirrorDispatcher,
  type MirrorEventName,
  MirrorEvents,
  type MirrorListener,
} from './events/index.ts';
import { type Logger, silentLogger } from './log.ts';
import {
  displayLocation,
  type MirrorStore,
  openMirror,
  openStore,
  type StatsOptions,
  type StatsResult,
  storeKindOf,
  validateStatsOptions,
} from './mirror/index.ts';
import {
  clientFromConfig,
  type Job,
  type JobList,
  type ListJobsParams,
  normalizeListParams,
  type RetabClient,
  validateListParams,
} from './retab/index.ts';
import { type PassSummary, type SyncOnceOptions, syncOnce, taskConfigOf } from './sync/index.ts';

export interface RetabMirrorOptions {
  /** Settings over the environment/config-file ones (same keys as the config file). */
  config?: Partial<Config>;
  /** @default silentLogger */
  logger?: Logger;
  /** Clock for the sync (unix ms); tests pass a simulator's. @default Date.now */
  now?: () => number;
  /**
   * Longest wait in `sync()` for its events to reach every sink, ms (a webhook that is down retries for
   * minutes). What is left is delivered in the background until `close()`, then by the next run. @default 300000
   */
  eventsTimeoutMs?: number;
}

/** What `RetabMirror.sync()` takes: any pass option (`SyncOnceOptions`) over the config's. */
export type RetabMirrorSyncOptions = Partial<SyncOnceOptions>;

export interface RetabMirror {
  readonly config: Config;
  /** The mirror's store (`MirrorStore`: every read and write of the mirror, asynchronous). */
  readonly mirror: MirrorStore;
  readonly client: RetabClient;
  readonly events: MirrorEvents;
  /** Subscribe to `job.discovered`, `job.status_changed`, `job.missing_upstream`, `sync.run_finished`. */
  on<K extends MirrorEventName>(name: K, listener: MirrorListener<K>): RetabMirror;
  off<K extends MirrorEventName>(name: K, listener: MirrorListener<K>): RetabMirror;
  /**
   * One full pass (head → active → hydrate, plus windows when asked); its events are delivered before it
   * resolves (listeners at once; webhooks within `eventsTimeoutMs`, the rest in the background).
   */
  sync(opts?: RetabMirrorSyncOptions): Promise<PassSummary>;
  /**
   * `GET /v1/jobs` over the mirror (offline). Rejects with RetabParamsError naming a bad parameter
   * (`.params`), or InvalidCursorError for a cursor naming no mirrored job.
   */
  list(params?: ListJobsParams): Promise<JobList>;
  /** One mirrored job; undefined when the mirror holds none with this id. */
  get(id: string, opts?: { includeRequest?: boolean; includeResponse?: boolean }): Promise<Job | undefined>;
  /**
   * Aggregates per group (`retab-mirror stats`). Rejects with RetabParamsError naming a bad option
   * (`groupBy` not one of the groups, `from`/`to` not a `YYYY-MM-DD` day, a bad filter), as the CLI and
   * `GET /v1/mirror/stats` refuse them.
   */
  stats(opts: StatsOptions): Promise<StatsResult>;
  close(): Promise<void>;
}

/**
 * A facade over the SQLite file `MIRROR_DB` names, opened (and migrated) synchronously.
 * @throws ConfigError for a bad setting; MirrorOpenError when the file cannot be opened; an Error when
 *   `MIRROR_DB` is a PostgreSQL URL (use `openRetabMirror`, which opens it asynchronously).
 */
export function createRetabMirror(opts: RetabMirrorOptions = {}): RetabMirror {
  const config = loadConfig({ overrides: opts.config ?? {} });
  // loadConfig registered every credential (API key, server token, webhook secrets) with the logger.
  const logger = opts.logger ?? silentLogger;
  if (storeKindOf(config.dbPath) !== 'sqlite')
    throw new Error(
      `createRetabMirror opens SQLite files synchronously; for MIRROR_DB=${displayLocation(config.dbPath)} use \`await openRetabMirror()\``,
    );
  // The client first: a bad setting (no API key) must fail before a file is created.
  const client = clientFromConfig(config, logger);
  const mirror = openMirror(config.dbPath, { onUpgrade: upgradeNotice(logger) });
  return closeOnThrow(mirror, () => facadeOver(config, logger, client, mirror, opts));
}

/**
 * A facade over the mirror `MIRROR_DB` names, on either store: an SQLite file or a PostgreSQL database.
 * @throws ConfigError for a bad setting (a typo'd URL scheme included); MirrorOpenError (rejects) when the
 *   mirror cannot be opened: one line naming MIRROR_DB, password masked.
 */
export async function openRetabMirror(opts: RetabMirrorOptions = {}): Promise<RetabMirror> {
  const config = loadConfig({ overrides: opts.config ?? {} });
  const logger = opts.logger ?? silentLogger;
  // The client first: a bad setting (no API key) must fail before a database is opened and migrated.
  const client = clientFromConfig(config, logger);
  const mirror = await openStore(config.dbPath, {
    poolSize: config.dbPoolSize,
    onUpgrade: upgradeNotice(logger),
  });
  return closeOnThrow(mirror, () => facadeOver(config, logger, client, mirror, opts));
}

const upgradeNotice =
  (logger: Logger) =>
  ({ path, pending }: { path: string; pending: number }) =>
    logger.info({ path, pending }, 'upgrading the mirror schema; large mirrors take a minute');

/** `build()`, or, when it throws, the store closed (in the background: no pool or file handle left open). */
function closeOnThrow<T>(mirror: MirrorStore, build: () => T): T {
  try {
    return build();
  } catch (err) {
    void mirror.close().catch(() => {});
    throw err;
  }
}

function facadeOver(
  config: Config,
  logger: Logger,
  client: RetabClient,
  mirror: MirrorStore,
  opts: RetabMirrorOptions,
): RetabMirror {
  const events = new MirrorEvents({ logger });
  const dispatcher: MirrorDispatcher = createDispatcher({
    mirror,
    config,
    logger,
    redis: null,
    emitter: events,
    log: false,
  });
  // Started on the next turn, not here: events already in the outbox must reach the listeners the caller
  // attaches right after this returns (an emit during the constructor would reach none of them).
  let closed = false;
  setImmediate(() => {
    if (!closed) dispatcher.start();
  });

  const facade: RetabMirror = {
    config,
    mirror,
    client,
    events,
    on(name, listener) {
      events.on(name, listener);
      return facade;
    },
    off(name, listener) {
      events.off(name, listener);
      return facade;
    },
    async sync(overrides = {}) {
      const summary = await syncOnce(
        { client, mirror, logger, onPage: () => dispatcher.notify(), ...(opts.now ? { now: opts.now } : {}) },
        {
          ...taskConfigOf(config),
          ...overrides,
          onTask: (e) => {
            overrides.onTask?.(e);
            if (e.phase === 'end' && e.summary) void events.emit('sync.run_finished', e.summary);
          },
        },
      );
      try {
        await dispatcher.drain({ timeoutMs: opts.eventsTimeoutMs ?? 300_000 });
      } catch (err) {
        if (!(err instanceof DrainTimeoutError)) throw err;
        logger.warn(
          { err: err.message },
          'events not all delivered within eventsTimeoutMs; delivery goes on in the background',
        );
      }
      return summary;
    },
    async list(params = {}) {
      return mirror.jobs.query(normalizeListParams(validateListParams(params)));
    },
    get(id, inc = {}) {
      return mirror.jobs.get(id, {
        include_request: inc.includeRequest ?? false,
        include_response: inc.includeResponse ?? false,
      });
    },
    async stats(statsOpts) {
      return mirror.jobs.stats(validateStatsOptions(statsOpts));
    },
    async close() {
      closed = true;
      await dispatcher.stop();
      await mirror.close();
    },
  };
  return facade;
}
