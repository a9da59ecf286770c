/**
 * Resend dead-lettered webhook events once each (`retab-mirror events retry`); success marks them resolved.
 * Each resend is a new delivery (`x-retab-mirror-delivery-id: <eventId>.d<attempt>`) of the same event
 * (`webhook-id` = the event id).
 */
import type { Config } from '../config.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { MirrorStore } from '../mirror/store.ts';
import { postWebhook } from './postWebhook.ts';
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
    const target = targets.get(row.sink);
    const event = await opts.mirror.outbox.byEventId(row.eventId);
    try {
      if (!target) throw new Error(`webhook "${row.sink}" is not configured in WEBHOOKS`);
      if (!event) throw new Error(`event ${row.eventId} is no longer in the outbox`);
      await postWebhook(target, event, {
        timeoutMs: opts.timeoutMs ?? 10_000,
        deliveryId: `${event.eventId}.d${attempts}`,
      });
      await opts.mirror.deadLetters.resolve(row.id, attempts);
      logger.info({ ...base, attempts }, 'dead-lettered event delivered');
      results.push({ ...base, ok: true });
    } catch (err) {
      const error = (err as Error).message;
      await opts.mirror.deadLetters.failedAgain(row.id, attempts, error);
      logger.warn({ ...base, attempts, error }, 'dead-lettered event failed again');
      results.push({ ...base, ok: false, error });
    }
  }
  return results;
}
