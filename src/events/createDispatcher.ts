/**
 * Build the dispatcher and its sinks from config in one call (worker, demo, `sync --once`, library):
 *
 * - `emitter`: the in-process typed emitter (`mirror.on(...)`) — every event.
 * - `queue`: the BullMQ events queue, when Redis is given and `EVENTS_QUEUE_ENABLED` — every event.
 * - one sink per webhook in `WEBHOOKS` (named by its `name`), plus `log`, and `stdout` when asked or
 *   named by a rule — these alert sinks get what `ALERT_RULES` routes to them (without rules: every
 *   non-backfill status change).
 *
 * With Redis, webhook deliveries go through the BullMQ `webhooks` queue and its worker (started by
 * `start()`), so their retries survive restarts; without Redis they are retried in-process.
 */
import type { Writable } from 'node:stream';
import type { ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Config } from '../config.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { Mirror } from '../mirror/openMirror.ts';
import { Dispatcher, type DispatcherOptions, type DrainOptions, type SinkStatus } from './dispatcher.ts';
import { MirrorEvents } from './mirrorEvents.ts';
import { checkRuleSinks, createRouter } from './rules.ts';
import { createEmitterSink } from './sinks/emitterSink.ts';
import { createLogSink, LOG_SINK } from './sinks/logSink.ts';
import { createQueueSink } from './sinks/queueSink.ts';
import { createStdoutSink, STDOUT_SINK } from './sinks/stdoutSink.ts';
import { createWebhookSink, type WebhookJobData, type WebhookRetryOptions } from './sinks/webhookSink.ts';
import type { EventSink } from './types.ts';
import { RESERVED_SINK_NAMES, webhookTargets } from './webhookTargets.ts';
import { createWebhookQueue, createWebhookWorker } from './webhookWorker.ts';

export type EventsConfig = Pick<
  Config,
  'webhooks' | 'webhookSecret' | 'alertRules' | 'eventsQueue' | 'eventsQueueEnabled' | 'queuePrefix'
>;

export interface CreateDispatcherOptions
  extends Pick<
    DispatcherOptions,
    'pollMs' | 'batchSize' | 'retryMinMs' | 'retryMaxMs' | 'newSinkStart' | 'stopTimeoutMs'
  > {
  mirror: Mirror;
  config: EventsConfig;
  logger?: Logger;
  /** Redis for the events queue and durable webhook retries; null/absent = in-process only. */
  redis?: { connection: ConnectionOptions } | null;
  /** The emitter to feed (e.g. the one `mirror.on` exposes). @default a new MirrorEvents */
  emitter?: MirrorEvents;
  /** Add the `stdout` sink (one JSON line per routed event), or write those lines to this stream. @default false */
  stdout?: boolean | Writable;
  /** Add the `log` sink. @default true */
  log?: boolean;
  /** Webhook retry policy and worker concurrency. */
  webhook?: WebhookRetryOptions & { concurrency?: number };
}

export interface MirrorDispatcher {
  readonly emitter: MirrorEvents;
  readonly sinks: readonly EventSink[];
  start(): void;
  notify(): void;
  drain(opts?: DrainOptions): Promise<void>;
  /** Stop delivering, wait for the in-flight batches, close the webhook worker and the queues. Final. */
  stop(): Promise<void>;
  status(): SinkStatus[];
}

export function createDispatcher(opts: CreateDispatcherOptions): MirrorDispatcher {
  const { mirror, config } = opts;
  const logger = opts.logger ?? silentLogger;
  const targets = webhookTargets(config);
  const problems = checkRuleSinks(config.alertRules, [...RESERVED_SINK_NAMES, ...targets.keys()]);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const named = new Set(config.alertRules.flatMap((r) => r.sinks));

  const emitter = opts.emitter ?? new MirrorEvents({ logger });
  const sinks: EventSink[] = [createEmitterSink(emitter)];
  const redis = opts.redis ?? null;
  const prefix = config.queuePrefix;
  if (redis && config.eventsQueueEnabled) {
    sinks.push(
      createQueueSink({ connection: redis.connection, prefix, queueName: config.eventsQueue, logger }),
    );
  }
  let webhookQueue: Queue<WebhookJobData> | null = null;
  if (redis && targets.size > 0)
    webhookQueue = createWebhookQueue({ connection: redis.connection, prefix, logger });
  for (const target of targets.values()) {
    if (!target.secret) {
      logger.warn(
        { sink: target.name },
        `webhook "${target.name}" has no secret: its requests are unsigned (set WEBHOOK_SECRET or webhooks[].secret)`,
      );
    }
    sinks.push(createWebhookSink({ ...opts.webhook, target, mirror, logger, queue: webhookQueue }));
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
  });

  let worker: Worker<WebhookJobData> | null = null;
  return {
    emitter,
    sinks,
    start() {
      if (redis && targets.size > 0 && !worker) {
        worker = createWebhookWorker({
          connection: redis.connection,
          prefix,
          mirror,
          targets,
          logger,
          ...(opts.webhook?.concurrency !== undefined ? { concurrency: opts.webhook.concurrency } : {}),
          ...(opts.webhook?.timeoutMs !== undefined ? { timeoutMs: opts.webhook.timeoutMs } : {}),
        });
      }
      dispatcher.start();
    },
    notify: () => dispatcher.notify(),
    drain: (o) => dispatcher.drain(o),
    status: () => dispatcher.status(),
    async stop() {
      await dispatcher.stop();
      await worker?.close();
      await webhookQueue?.close();
    },
  };
}
