/**
 * A webhook: one signed POST per event to one configured URL, retried with exponential backoff, then
 * dead-lettered (the cursor moves on; `events retry` resends later).
 *
 * Two modes. With Redis, events are handed to the BullMQ `webhooks` queue and a worker
 * (webhookWorker.ts) POSTs them, so pending retries survive restarts and never hold up the outbox.
 * Without Redis (`sync --once`, library use), they are POSTed here with p-retry: the sink's lane waits for
 * each event's retries, which keeps strict order but blocks only this sink.
 */
import type { Queue } from 'bullmq';
import pRetry from 'p-retry';
import { type Logger, silentLogger } from '../../log.ts';
import type { Mirror } from '../../mirror/openMirror.ts';
import { recordDeadLetter } from '../deadLetters.ts';
import { postWebhook, WebhookDeliveryError, type WebhookTarget } from '../postWebhook.ts';
import { queueJobId } from '../queueJobId.ts';
import type { EventSink, MirrorEvent } from '../types.ts';

export interface WebhookRetryOptions {
  /** Attempts (first try included) before an event is dead-lettered. @default 8 */
  attempts?: number;
  /** Delay before the first retry, ms; doubles on each further retry. @default 1000 */
  backoffMs?: number;
  /** Longest single delay between two attempts, ms (in-process mode). @default 300000 */
  maxBackoffMs?: number;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
}

export const WEBHOOK_DEFAULTS = {
  attempts: 8,
  backoffMs: 1000,
  maxBackoffMs: 300_000,
  timeoutMs: 10_000,
} as const satisfies Required<WebhookRetryOptions>;

/** Data of one job in the `webhooks` queue. The URL is looked up from config by `sink`, never carried. */
export interface WebhookJobData {
  sink: string;
  event: MirrorEvent;
}

export interface WebhookSinkOptions extends WebhookRetryOptions {
  target: WebhookTarget;
  mirror: Mirror;
  logger?: Logger;
  /** The BullMQ `webhooks` queue; null/absent = POST in-process with p-retry. */
  queue?: Queue<WebhookJobData> | null;
}

export function createWebhookSink(opts: WebhookSinkOptions): EventSink {
  const { target, mirror } = opts;
  const logger = (opts.logger ?? silentLogger).child({ sink: target.name });
  const attempts = opts.attempts ?? WEBHOOK_DEFAULTS.attempts;
  const backoffMs = opts.backoffMs ?? WEBHOOK_DEFAULTS.backoffMs;
  const timeoutMs = opts.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs;
  const queue = opts.queue;

  if (queue) {
    return {
      name: target.name,
      kind: 'alert',
      async deliver(events) {
        await queue.addBulk(
          events.map((event) => ({
            name: target.name,
            data: { sink: target.name, event },
            opts: {
              jobId: queueJobId(target.name, event.eventId),
              attempts,
              backoff: { type: 'exponential', delay: backoffMs, jitter: 0.2 },
              removeOnComplete: { count: 1000, age: 86_400 },
              removeOnFail: { count: 10_000, age: 30 * 86_400 },
            },
          })),
        );
      },
    };
  }

  return {
    name: target.name,
    kind: 'alert',
    async deliver(events, ctx) {
      for (const event of events) {
        let made = 0;
        try {
          await pRetry(
            () => {
              made++;
              return postWebhook(target, event, { timeoutMs, signal: ctx.signal });
            },
            {
              retries: attempts - 1,
              factor: 2,
              minTimeout: backoffMs,
              maxTimeout: opts.maxBackoffMs ?? WEBHOOK_DEFAULTS.maxBackoffMs,
              randomize: true,
              signal: ctx.signal,
              shouldRetry: ({ error }) => !(error instanceof WebhookDeliveryError) || error.retryable,
              onFailedAttempt: ({ error, attemptNumber, retriesLeft }) =>
                logger.debug({ err: error, eventId: event.eventId, attemptNumber, retriesLeft }, 'retrying'),
            },
          );
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          const lastError = (err as Error).message;
          recordDeadLetter(mirror, {
            sink: target.name,
            seq: event.seq,
            eventId: event.eventId,
            attempts: made,
            lastError,
          });
          logger.warn(
            { eventId: event.eventId, seq: event.seq, attempts: made, lastError },
            'webhook gave up on an event: dead-lettered (see `retab-mirror events failed`)',
          );
        }
        ctx.ack(event.seq);
      }
    },
  };
}
