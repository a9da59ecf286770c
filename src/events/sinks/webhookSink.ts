/**
 * A webhook: one signed POST per event to one configured URL, retried with exponential backoff, then
 * dead-lettered (`events failed` lists it, `events retry` resends it) — the delivery path of
 * deliverWebhook.ts, shared with `events retry`.
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
import { type Logger, silentLogger } from '../../log.ts';
import type { MirrorStore } from '../../mirror/index.ts';
import { deliveryId } from '../cursors.ts';
import {
  deliverWebhook,
  WEBHOOK_DEFAULTS,
  type WebhookOutcome,
  type WebhookRetryOptions,
  webhookPolicy,
} from '../deliverWebhook.ts';
import { WebhookDeliveryError, type WebhookTarget } from '../postWebhook.ts';
import { SeqSlots } from '../seqSlots.ts';
import { type DeliveryContext, type EventSink, type MirrorEvent, SinkDisabledError } from '../types.ts';

export interface WebhookSinkOptions extends WebhookRetryOptions {
  target: WebhookTarget;
  mirror: MirrorStore;
  logger?: Logger;
}

export function createWebhookSink(opts: WebhookSinkOptions): EventSink {
  const { target, mirror } = opts;
  const logger = (opts.logger ?? silentLogger).child({ sink: target.name });
  const policy = webhookPolicy(opts);
  const concurrency = opts.concurrency ?? WEBHOOK_DEFAULTS.concurrency;

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
    const slots = new SeqSlots(concurrency);
    let gone = false;

    async function deliverOne(event: MirrorEvent): Promise<WebhookOutcome['result']> {
      const outcome = await deliverWebhook(target, event, {
        policy,
        deliveryId: deliveryId(event.eventId, ctx.generation),
        signal,
        logger,
        // Each attempt takes a slot, lowest seq first; none is sent once the webhook answered 410.
        around: async (send) => {
          await slots.acquire(event.seq, signal);
          try {
            if (gone) return false;
            await send();
            return true;
          } catch (err) {
            // Before the slot is released: the next waiter must already see it.
            if (err instanceof WebhookDeliveryError && err.gone) gone = true;
            throw err;
          } finally {
            slots.release();
          }
        },
      });
      if (outcome.result === 'failed') {
        const { attempts, lastError } = outcome;
        await mirror.deadLetters.record({
          sink: target.name,
          seq: event.seq,
          eventId: event.eventId,
          attempts,
          lastError,
        });
        logger.warn(
          { eventId: event.eventId, seq: event.seq, attempts, lastError },
          'webhook gave up on an event: dead-lettered (see `retab-mirror events failed`)',
        );
      }
      return outcome.result;
    }

    // The job's group: its events in outbox order, each waiting for the previous one's retries.
    const groups = new Map<string, MirrorEvent[]>();
    for (const e of events) {
      const group = groups.get(e.jobId);
      if (group) group.push(e);
      else groups.set(e.jobId, [e]);
    }
    const settled = new Set<number>();
    let prefix = 0;
    const results = await Promise.allSettled(
      [...groups.values()].map(async (group) => {
        for (const event of group) {
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
