/**
 * A webhook: one signed POST per event to one configured URL, retried with exponential backoff, then
 * dead-lettered (`events failed` lists it, `events retry` resends it).
 *
 * Ordering is the message-group model, with the job as the group: each job's events reach the receiver in
 * outbox order, even when one of them is retried (its job's later events wait for it), while other jobs'
 * events of the batch go on meanwhile. Sends are spread over `concurrency` slots handed out lowest seq
 * first, so with nothing retried the receiver sees plain seq order. A batch is acknowledged only once each
 * of its events was delivered or dead-lettered, so the next batch (the dispatcher's `batchSize`) waits for
 * the slowest retry of this one, and a process stopped mid-batch re-sends the unacknowledged part on its
 * next start (at least once: receivers dedupe on `webhook-id`).
 *
 * Retries run in the delivering process, with or without Redis; the outbox cursor, not a queue, is what
 * makes them survive a restart. A `410 Gone` disables the sink (the dispatcher records it) instead of
 * retrying for ever.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs } from '../../backoff.ts';
import { type Logger, silentLogger } from '../../log.ts';
import type { MirrorStore } from '../../mirror/store.ts';
import { deliveryId } from '../cursors.ts';
import { postWebhook, WebhookDeliveryError, type WebhookTarget } from '../postWebhook.ts';
import { SeqSlots } from '../seqSlots.ts';
import { type DeliveryContext, type EventSink, type MirrorEvent, SinkDisabledError } from '../types.ts';

export interface WebhookRetryOptions {
  /** Attempts (first try included) before an event is dead-lettered. @default 8 */
  attempts?: number;
  /** Delay before the first retry, ms; doubles on each further retry (±20% jitter). @default 1000 */
  backoffMs?: number;
  /** Longest single delay between two attempts, ms. @default 300000 */
  maxBackoffMs?: number;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
  /** Requests in flight at once to this webhook. @default 1 */
  concurrency?: number;
}

export const WEBHOOK_DEFAULTS = {
  attempts: 8,
  backoffMs: 1000,
  maxBackoffMs: 300_000,
  timeoutMs: 10_000,
  concurrency: 1,
} as const satisfies Required<WebhookRetryOptions>;

export interface WebhookSinkOptions extends WebhookRetryOptions {
  target: WebhookTarget;
  mirror: MirrorStore;
  logger?: Logger;
}

type Outcome = 'delivered' | 'dead-lettered' | 'gone';

export function createWebhookSink(opts: WebhookSinkOptions): EventSink {
  const { target, mirror } = opts;
  const logger = (opts.logger ?? silentLogger).child({ sink: target.name });
  const o = {
    attempts: opts.attempts ?? WEBHOOK_DEFAULTS.attempts,
    backoffMs: opts.backoffMs ?? WEBHOOK_DEFAULTS.backoffMs,
    maxBackoffMs: opts.maxBackoffMs ?? WEBHOOK_DEFAULTS.maxBackoffMs,
    timeoutMs: opts.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs,
    concurrency: opts.concurrency ?? WEBHOOK_DEFAULTS.concurrency,
  };

  async function deliver(events: MirrorEvent[], ctx: DeliveryContext): Promise<void> {
    // One signal for the batch's waits (a slot, a backoff, a request each): a batch can hold hundreds.
    const batch = new AbortController();
    setMaxListeners(0, batch.signal);
    const onAbort = () => batch.abort(ctx.signal.reason);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    const signal = batch.signal;
    try {
      await deliverBatch(events, ctx, signal);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  async function deliverBatch(events: MirrorEvent[], ctx: DeliveryContext, signal: AbortSignal) {
    const slots = new SeqSlots(o.concurrency);
    let gone: WebhookDeliveryError | undefined;

    async function deliverOne(event: MirrorEvent): Promise<Outcome> {
      const id = deliveryId(event.eventId, ctx.generation);
      for (let attempt = 1; ; attempt++) {
        await slots.acquire(event.seq, signal);
        if (gone) {
          slots.release();
          return 'gone';
        }
        let error: unknown;
        try {
          await postWebhook(target, event, { timeoutMs: o.timeoutMs, signal, deliveryId: id });
          return 'delivered';
        } catch (err) {
          error = err;
        } finally {
          slots.release();
        }
        if (signal.aborted) throw error;
        if (error instanceof WebhookDeliveryError && error.gone) {
          gone ??= error;
          return 'gone';
        }
        const retryable = !(error instanceof WebhookDeliveryError) || error.retryable;
        const lastError = (error as Error).message;
        if (!retryable || attempt >= o.attempts) {
          await mirror.deadLetters.record({
            sink: target.name,
            seq: event.seq,
            eventId: event.eventId,
            attempts: attempt,
            lastError,
          });
          logger.warn(
            { eventId: event.eventId, seq: event.seq, attempts: attempt, lastError },
            'webhook gave up on an event: dead-lettered (see `retab-mirror events failed`)',
          );
          return 'dead-lettered';
        }
        const delay = backoffMs(attempt, {
          minMs: o.backoffMs,
          maxMs: o.maxBackoffMs,
          below: 0.2,
          above: 0.2,
        });
        logger.debug({ eventId: event.eventId, attempt, retryInMs: delay, lastError }, 'retrying');
        await sleep(delay, undefined, { signal });
      }
    }

    // The job's lane: its events in outbox order, each waiting for the previous one's retries.
    const lanes = new Map<string, MirrorEvent[]>();
    for (const e of events) {
      const lane = lanes.get(e.jobId);
      if (lane) lane.push(e);
      else lanes.set(e.jobId, [e]);
    }
    const settled = new Set<number>();
    let prefix = 0;
    const results = await Promise.allSettled(
      [...lanes.values()].map(async (lane) => {
        for (const event of lane) {
          if ((await deliverOne(event)) === 'gone') return;
          settled.add(event.seq);
          // Acknowledge the longest settled prefix: a stop or a 410 later keeps what is done.
          while (prefix < events.length && settled.has((events[prefix] as MirrorEvent).seq)) prefix++;
          if (prefix > 0) ctx.ack((events[prefix - 1] as MirrorEvent).seq);
        }
      }),
    );
    if (gone) {
      throw new SinkDisabledError(`webhook ${target.name} answered 410 Gone (${target.name} in WEBHOOKS)`);
    }
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  return { name: target.name, kind: 'alert', deliver };
}
