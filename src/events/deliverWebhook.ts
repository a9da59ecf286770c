/**
 * The one webhook delivery path. Every POST of an event to a webhook goes through `deliverWebhook`: the
 * webhook sink's in-process retries (sinks/webhookSink.ts) and the resend of dead letters (`events retry`,
 * the console's retry button: retryDeadLetters.ts). It makes the one retry decision (`webhookRetryDelay`: the
 * capped exponential backoff of src/backoff.ts, ±20% jitter) and ends in one of three outcomes; a `failed`
 * one is what both callers write to `event_dead_letters` with `recordDeadLetter`, the one dead-letter write.
 *
 * Why one path: the two used to decide differently what a failure was and how to record it. Now a resend is
 * the same delivery with a budget of one attempt (`RESEND_POLICY`).
 */
import { backoffMs, sleep } from '../backoff.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { MirrorEvent } from './eventModel.ts';
import { postWebhook, WebhookDeliveryError, type WebhookTarget } from './postWebhook.ts';

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

/** How one event is delivered: attempts, backoff and per-request timeout (see `WebhookRetryOptions`). */
export type WebhookPolicy = Required<Omit<WebhookRetryOptions, 'concurrency'>>;

/** The policy of `opts`, defaults (`WEBHOOK_DEFAULTS`) filled in. */
export function webhookPolicy(opts: WebhookRetryOptions = {}): WebhookPolicy {
  return {
    attempts: opts.attempts ?? WEBHOOK_DEFAULTS.attempts,
    backoffMs: opts.backoffMs ?? WEBHOOK_DEFAULTS.backoffMs,
    maxBackoffMs: opts.maxBackoffMs ?? WEBHOOK_DEFAULTS.maxBackoffMs,
    timeoutMs: opts.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs,
  };
}

/** A dead letter's resend (`events retry`): one attempt. */
export const RESEND_POLICY: WebhookPolicy = webhookPolicy({ attempts: 1 });

export type WebhookOutcome =
  | { result: 'delivered'; attempts: number }
  /** The receiver answered 410 Gone (or another delivery to it did, and this one was not sent). */
  | { result: 'gone'; attempts: number; lastError: string }
  /** Not retryable, or the attempts are spent: dead-letter it. */
  | { result: 'failed'; attempts: number; lastError: string };

/**
 * The retry decision: the delay before the attempt after failed `attempt` (1-based), ms, or undefined to
 * give up — the error is not retryable (4xx, a redirect: `WebhookDeliveryError.retryable`) or the policy's
 * attempts are spent. Errors other than `WebhookDeliveryError` are retried.
 */
export function webhookRetryDelay(
  error: unknown,
  attempt: number,
  policy: WebhookPolicy,
): number | undefined {
  const retryable = !(error instanceof WebhookDeliveryError) || error.retryable;
  if (!retryable || attempt >= policy.attempts) return undefined;
  return backoffMs(attempt, { minMs: policy.backoffMs, maxMs: policy.maxBackoffMs, below: 0.2, above: 0.2 });
}

export interface DeliverWebhookOptions {
  policy: WebhookPolicy;
  /** This delivery's id (`x-retab-mirror-delivery-id`); the same for every attempt. */
  deliveryId: string;
  /** Ends the request and the backoff waits: `deliverWebhook` then rejects (nothing is recorded). */
  signal?: AbortSignal;
  /**
   * Runs each attempt, e.g. inside one of the sink's concurrency slots; resolves false when it did not send
   * (the webhook was found gone meanwhile). @default send at once
   */
  around?: (send: () => Promise<void>) => Promise<boolean>;
  logger?: Logger;
}

const sendAtOnce = async (send: () => Promise<void>) => {
  await send();
  return true;
};

/**
 * POST `event` to `target` until it is delivered, gone, or given up (see `webhookRetryDelay`). The body is the
 * event's JSON, serialised once for every attempt (`eventJson`); each attempt is signed afresh. Rejects only
 * when `signal` aborts.
 */
export async function deliverWebhook(
  target: WebhookTarget,
  event: MirrorEvent,
  opts: DeliverWebhookOptions,
): Promise<WebhookOutcome> {
  const { policy, signal } = opts;
  const around = opts.around ?? sendAtOnce;
  const request = {
    timeoutMs: policy.timeoutMs,
    deliveryId: opts.deliveryId,
    ...(signal ? { signal } : {}),
  };
  for (let attempt = 1; ; attempt++) {
    let error: unknown;
    try {
      if (!(await around(() => postWebhook(target, event, request)))) {
        return { result: 'gone', attempts: attempt - 1, lastError: `webhook ${target.name} is gone` };
      }
      return { result: 'delivered', attempts: attempt };
    } catch (err) {
      error = err;
    }
    if (signal?.aborted) throw error;
    const lastError = (error as Error)?.message ?? String(error);
    if (error instanceof WebhookDeliveryError && error.gone)
      return { result: 'gone', attempts: attempt, lastError };
    const delay = webhookRetryDelay(error, attempt, policy);
    if (delay === undefined) return { result: 'failed', attempts: attempt, lastError };
    (opts.logger ?? silentLogger).debug(
      { eventId: event.eventId, attempt, retryInMs: delay, lastError },
      'retrying',
    );
    await sleep(delay, signal);
  }
}
