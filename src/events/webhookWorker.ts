/**
 * The BullMQ worker of the `webhooks` queue: POSTs one event per job to the URL configured for the job's
 * sink. BullMQ schedules the retries (attempts + exponential backoff, kept in Redis across restarts); on
 * the last attempt, or on an answer a retry cannot change, the event is dead-lettered in the mirror.
 */
import { type ConnectionOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import { type Logger, silentLogger } from '../log.ts';
import type { Mirror } from '../mirror/openMirror.ts';
import { recordDeadLetter } from './deadLetters.ts';
import { postWebhook, WebhookDeliveryError, type WebhookTarget } from './postWebhook.ts';
import { WEBHOOK_DEFAULTS, type WebhookJobData } from './sinks/webhookSink.ts';

export const WEBHOOKS_QUEUE = 'webhooks';

export interface WebhookQueueOptions {
  connection: ConnectionOptions;
  /** @default 'retab-mirror' (config `QUEUE_PREFIX`) */
  prefix?: string;
  logger?: Logger;
}

export function createWebhookQueue(opts: WebhookQueueOptions): Queue<WebhookJobData> {
  const queue = new Queue<WebhookJobData>(WEBHOOKS_QUEUE, {
    connection: opts.connection,
    prefix: opts.prefix ?? 'retab-mirror',
  });
  // Without a listener an emitted 'error' (Redis unreachable) would crash the process.
  queue.on('error', (err) =>
    (opts.logger ?? silentLogger).warn({ err: err.message }, 'webhooks queue error'),
  );
  return queue;
}

export interface WebhookWorkerOptions extends WebhookQueueOptions {
  mirror: Mirror;
  /** Configured webhooks by name: the only URLs ever POSTed to. */
  targets: ReadonlyMap<string, WebhookTarget>;
  logger?: Logger;
  /** Requests in flight at once. 1 keeps each webhook's events in seq order (retries aside). @default 1 */
  concurrency?: number;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
}

export function createWebhookWorker(opts: WebhookWorkerOptions): Worker<WebhookJobData> {
  const logger = (opts.logger ?? silentLogger).child({ worker: WEBHOOKS_QUEUE });
  const timeoutMs = opts.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs;
  const worker = new Worker<WebhookJobData>(
    WEBHOOKS_QUEUE,
    async (job) => {
      const { sink, event } = job.data;
      const attempt = job.attemptsMade + 1;
      try {
        const target = opts.targets.get(sink);
        if (!target) {
          throw new WebhookDeliveryError(`webhook "${sink}" is no longer configured in WEBHOOKS`, false);
        }
        await postWebhook(target, event, { timeoutMs });
      } catch (err) {
        const permanent = err instanceof WebhookDeliveryError && !err.retryable;
        if (!permanent && attempt < (job.opts.attempts ?? 1)) throw err;
        const lastError = (err as Error).message;
        recordDeadLetter(opts.mirror, {
          sink,
          seq: event.seq,
          eventId: event.eventId,
          attempts: attempt,
          lastError,
        });
        logger.warn(
          { sink, eventId: event.eventId, seq: event.seq, attempts: attempt, lastError },
          'webhook gave up on an event: dead-lettered (see `retab-mirror events failed`)',
        );
        throw new UnrecoverableError(lastError);
      }
    },
    {
      connection: opts.connection,
      prefix: opts.prefix ?? 'retab-mirror',
      concurrency: opts.concurrency ?? 1,
    },
  );
  worker.on('error', (err) => logger.error({ err }, 'webhooks worker error'));
  return worker;
}
