/**
 * The library facade: one object that owns a mirror file, a client and the in-process event emitter, so a
 * program can `await m.sync()`, `m.on('job.status_changed', …)` and `m.list({ status: 'failed' })` without
 * wiring the layers itself. Scheduled mirroring (BullMQ) is `startWorker`; this is the in-process shape.
 */
import { type Config, loadConfig } from './config.ts';
import type { MirrorEventName } from './events/index.ts';
import {
  createDispatcher,
  DrainTimeoutError,
  type MirrorDispatcher,
  MirrorEvents,
  type MirrorListener,
} from './events/index.ts';
import { type Logger, silentLogger } from './log.ts';
import type { MirrorStore } from './mirror/index.ts';
import {
  getJob,
  openMirror,
  queryJobs,
  type StatsOptions,
  type StatsResult,
  statsJobs,
} from './mirror/index.ts';
import type { RetabClient } from './retab/index.ts';
import {
  clientFromConfig,
  type Job,
  type JobList,
  type ListJobsParams,
  ListJobsParamsSchema,
  normalizeListParams,
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
  sync(opts?: Partial<SyncOnceOptions>): Promise<PassSummary>;
  /** `GET /v1/jobs` over the mirror (offline). Throws a ZodError naming a bad parameter. */
  list(params?: ListJobsParams): JobList;
  get(id: string, opts?: { includeRequest?: boolean; includeResponse?: boolean }): Job | undefined;
  stats(opts: StatsOptions): StatsResult;
  close(): Promise<void>;
}

export function createRetabMirror(opts: RetabMirrorOptions = {}): RetabMirror {
  const config = loadConfig({ overrides: opts.config ?? {} });
  // loadConfig registered every credential (API key, server token, webhook secrets) with the logger.
  const logger = opts.logger ?? silentLogger;
  const client = clientFromConfig(config, logger);
  // SQLite, opened synchronously: `list`, `get` and `stats` answer synchronously (SQLite does), so this
  // facade cannot take an asynchronous store yet; a PostgreSQL mirror (#21) needs async variants of them.
  const mirror = openMirror(config.dbPath, {
    onUpgrade: ({ path, pending }) =>
      logger.info({ path, pending }, 'upgrading the mirror schema; large mirrors take a minute'),
  });
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
    list(params = {}) {
      return queryJobs(mirror, normalizeListParams(ListJobsParamsSchema.parse(params)));
    },
    get(id, inc = {}) {
      return getJob(mirror, id, {
        include_request: inc.includeRequest ?? false,
        include_response: inc.includeResponse ?? false,
      });
    },
    stats(statsOpts) {
      return statsJobs(mirror, statsOpts);
    },
    async close() {
      closed = true;
      await dispatcher.stop();
      await mirror.close();
    },
  };
  return facade;
}
