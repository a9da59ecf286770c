/**
 * Resend dead-lettered webhook events once each (`retab-mirror events retry`, the console's retry button);
 * success marks them resolved. A resend is the webhook sink's delivery path (deliverWebhook.ts) with a
 * budget of one attempt, and a failure is written as the sink writes one (`recordDeadLetter`: attempts and
 * last error updated, the dead letter left open). Each resend is a new delivery
 * (`x-retab-mirror-delivery-id: <eventId>.d<attempt>`) of the same event (`webhook-id` = the event id).
 */
import type { Config } from '../config.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';
import { deliverWebhook, RESEND_POLICY } from './deliverWebhook.ts';
import { webhookTargets } from './webhookTargets.ts';

export interface RetryDeadLettersOptions {
  mirror: MirrorStore;
  config: Pick<Config, 'webhooks' | 'webhookSecret'>;
  /** Only these dead-letter ids (`events failed` lists them). */
  ids?: readonly number[];
  /** Every unresolved dead letter. */
  all?: boolean;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
  logger?: Logger;
}

export interface RetryResult {
  id: number;
  sink?: string;
  eventId?: string;
  ok: boolean;
  error?: string;
}

export async function retryDeadLetters(opts: RetryDeadLettersOptions): Promise<RetryResult[]> {
  if (!opts.all && (!opts.ids || opts.ids.length === 0)) {
    throw new Error('say which dead letters to resend: --id N (repeatable) or --all');
  }
  const logger = opts.logger ?? silentLogger;
  const policy = { ...RESEND_POLICY, timeoutMs: opts.timeoutMs ?? RESEND_POLICY.timeoutMs };
  const targets = webhookTargets(opts.config);
  const rows = await opts.mirror.deadLetters.list(opts.all ? {} : { ids: opts.ids ?? [] });
  const results: RetryResult[] = [];
  if (!opts.all) {
    const found = new Set(rows.map((r) => r.id));
    for (const id of opts.ids ?? []) {
      if (!found.has(id)) results.push({ id, ok: false, error: `no unresolved dead letter with id ${id}` });
    }
  }
  for (const row of rows) {
    const base = { id: row.id, sink: row.sink, eventId: row.eventId };
    const attempts = row.attempts + 1;
    try {
      const target = targets.get(row.sink);
      if (!target) throw new Error(`webhook "${row.sink}" is not configured in WEBHOOKS`);
      const event = await opts.mirror.outbox.byEventId(row.eventId);
      if (!event) throw new Error(`event ${row.eventId} is no longer in the outbox`);
      const outcome = await deliverWebhook(target, event, {
        policy,
        deliveryId: `${event.eventId}.d${attempts}`,
        logger,
      });
      if (outcome.result !== 'delivered') throw new Error(outcome.lastError);
      await opts.mirror.deadLetters.resolve(row.id, attempts);
      logger.info({ ...base, attempts }, 'dead-lettered event delivered');
      results.push({ ...base, ok: true });
    } catch (err) {
      const error = (err as Error).message;
      await opts.mirror.deadLetters.record({
        sink: row.sink,
        seq: row.seq,
        eventId: row.eventId,
        attempts,
        lastError: error,
      });
      logger.warn({ ...base, attempts, error }, 'dead-lettered event failed again');
      results.push({ ...base, ok: false, error });
    }
  }
  return results;
}
