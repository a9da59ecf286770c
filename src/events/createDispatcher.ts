/**
 * Build the dispatcher and its sinks from config in one call (worker, demo, `sync`, library):
 *
 * - `emitter`: the in-process typed emitter (`mirror.on(...)`) — every event.
 * - `queue`: the BullMQ events queue, when Redis is given and `EVENTS_QUEUE_ENABLED` — every event.
 * - one sink per webhook in `WEBHOOKS` (named by its `name`), plus `log`, and `stdout` when asked or
 *   named by a rule — these alert sinks get what `ALERT_RULES` routes to them (without rules: every
 *   non-backfill status change).
 *
 * Webhooks are POSTed by this process in either case (see sinks/webhookSink.ts for their ordering and
 * retries). The config is checked first (`eventsConfigProblems`): a rule naming an unknown sink throws an
 * `EventsConfigError` before anything is delivered.
 *
 * In a fleet the worker passes `leases` (see dispatcher.ts): each sink is then delivered by the one process
 * holding its lane's lease, whichever process runs it.
 */
import type { Writable } from 'node:stream';
import type { ConnectionOptions } from 'bullmq';
import type { Config } from '../config.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';
import type { WebhookRetryOptions } from './deliverWebhook.ts';
import { Dispatcher, type DispatcherOptions, type DrainOptions, type SinkStatus } from './dispatcher.ts';
import { MirrorEvents } from './mirrorEvents.ts';
import { checkRuleSinks, createRouter } from './rules.ts';
import { createEmitterSink } from './sinks/emitterSink.ts';
import { createLogSink, LOG_SINK } from './sinks/logSink.ts';
import { createQueueSink } from './sinks/queueSink.ts';
import { createStdoutSink, STDOUT_SINK } from './sinks/stdoutSink.ts';
import { createWebhookSink } from './sinks/webhookSink.ts';
import type { EventSink } from './types.ts';
import { secretProblem } from './webhookSignature.ts';
import { RESERVED_SINK_NAMES, webhookTargets } from './webhookTargets.ts';

export type EventsConfig = Pick<
  Config,
  'webhooks' | 'webhookSecret' | 'alertRules' | 'eventsQueue' | 'eventsQueueEnabled' | 'queuePrefix'
>;

export interface CreateDispatcherOptions
  extends Pick<
    DispatcherOptions,
    | 'pollMs'
    | 'batchSize'
    | 'retryMinMs'
    | 'retryMaxMs'
    | 'newSinkStart'
    | 'stopTimeoutMs'
    | 'leases'
    | 'leaseRetryMs'
  > {
  mirror: MirrorStore;
  config: EventsConfig;
  logger?: Logger;
  /** Redis for the events queue; null/absent = no events queue. */
  redis?: { connection: ConnectionOptions } | null;
  /** The emitter to feed (e.g. the one `mirror.on` exposes). @default a new MirrorEvents */
  emitter?: MirrorEvents;
  /** Add the `stdout` sink (one JSON line per routed event), or write those lines to this stream. @default false */
  stdout?: boolean | Writable;
  /** Add the `log` sink. @default true */
  log?: boolean;
  /** Webhook retry policy and requests in flight per webhook. */
  webhook?: WebhookRetryOptions;
}

export interface MirrorDispatcher {
  readonly emitter: MirrorEvents;
  readonly sinks: readonly EventSink[];
  start(): void;
  notify(): void;
  drain(opts?: DrainOptions): Promise<void>;
  /** Stop delivering, wait for the in-flight batches, close the queues. Final. */
  stop(): Promise<void>;
  status(): SinkStatus[];
}

/** A setting that makes event delivery impossible (exit 2 in the CLI). */
export class EventsConfigError extends Error {
  override name = 'EventsConfigError';
}

/**
 * Every problem of the events settings, as one-line actionable messages naming the setting: webhook names
 * (unique, not a built-in sink), URLs (http(s), no credentials), secrets, and every sink an `ALERT_RULES`
 * rule routes to. Empty when fine.
 */
export function eventsConfigProblems(
  config: Pick<Config, 'webhooks' | 'webhookSecret' | 'alertRules'>,
): string[] {
  let names: string[];
  try {
    names = [...webhookTargets(config).keys()];
  } catch (err) {
    return [(err as Error).message];
  }
  const problems = checkRuleSinks(config.alertRules, [...RESERVED_SINK_NAMES, ...names]);
  for (const w of config.webhooks) {
    const problem = urlProblem(w.url);
    if (problem) problems.push(`WEBHOOKS "${w.name}" url: ${problem}`);
  }
  const secrets: [string, string | undefined][] = [
    ['WEBHOOK_SECRET', config.webhookSecret],
    ...config.webhooks.map((w): [string, string | undefined] => [`WEBHOOKS "${w.name}" secret`, w.secret]),
  ];
  for (const [setting, secret] of secrets) {
    const problem = secret ? secretProblem(secret) : undefined;
    if (problem) problems.push(`${setting}: ${problem}`);
  }
  return problems;
}

/**
 * Why a webhook URL cannot be POSTed to (fetch would refuse every request), or undefined. The message never
 * repeats the URL: it may carry a password.
 */
function urlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `must be http:// or https://, not ${u.protocol}`;
  if (u.username || u.password)
    return 'credentials in the URL (user:password@) are not supported; put a token in the path or query, and verify the signature';
  return undefined;
}

/** Throw an `EventsConfigError` listing every problem (see `eventsConfigProblems`). */
export function checkEventsConfig(config: Pick<Config, 'webhooks' | 'webhookSecret' | 'alertRules'>): void {
  const problems = eventsConfigProblems(config);
  if (problems.length > 0) throw new EventsConfigError(problems.join('; '));
}

export function createDispatcher(opts: CreateDispatcherOptions): MirrorDispatcher {
  const { mirror, config } = opts;
  const logger = opts.logger ?? silentLogger;
  checkEventsConfig(config);
  const targets = webhookTargets(config);
  const named = new Set(config.alertRules.flatMap((r) => r.sinks));

  const emitter = opts.emitter ?? new MirrorEvents({ logger });
  const sinks: EventSink[] = [createEmitterSink(emitter)];
  const redis = opts.redis ?? null;
  if (redis && config.eventsQueueEnabled) {
    sinks.push(
      createQueueSink({
        connection: redis.connection,
        prefix: config.queuePrefix,
        queueName: config.eventsQueue,
        logger,
      }),
    );
  }
  for (const target of targets.values()) {
    if (!target.secret) {
      logger.warn(
        { sink: target.name },
        `webhook "${target.name}" has no secret: its requests are unsigned (set WEBHOOK_SECRET or webhooks[].secret)`,
      );
    }
    sinks.push(createWebhookSink({ ...opts.webhook, target, mirror, logger }));
  }
  if (opts.log !== false || named.has(LOG_SINK)) sinks.push(createLogSink(logger));
  if (opts.stdout || named.has(STDOUT_SINK)) {
    sinks.push(createStdoutSink(typeof opts.stdout === 'object' ? opts.stdout : process.stdout));
  }

  const dispatcher = new Dispatcher({
    mirror,
    sinks,
    filter: createRouter(config.alertRules),
    logger,
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
    ...(opts.retryMinMs !== undefined ? { retryMinMs: opts.retryMinMs } : {}),
    ...(opts.retryMaxMs !== undefined ? { retryMaxMs: opts.retryMaxMs } : {}),
    ...(opts.newSinkStart !== undefined ? { newSinkStart: opts.newSinkStart } : {}),
    ...(opts.stopTimeoutMs !== undefined ? { stopTimeoutMs: opts.stopTimeoutMs } : {}),
    ...(opts.leases !== undefined ? { leases: opts.leases } : {}),
    ...(opts.leaseRetryMs !== undefined ? { leaseRetryMs: opts.leaseRetryMs } : {}),
  });

  return {
    emitter,
    sinks,
    start: () => dispatcher.start(),
    notify: () => dispatcher.notify(),
    drain: (o) => dispatcher.drain(o),
    status: () => dispatcher.status(),
    stop: () => dispatcher.stop(),
  };
}
