/**
 * One signed POST of one event to one configured URL (Standard Webhooks headers, see webhookSignature.ts):
 * one attempt of the delivery path in deliverWebhook.ts, which retries and dead-letters.
 * Redirects are not followed (we only ever POST to the URL the operator configured); the error says whether
 * a retry can help, and whether the receiver is gone for good (410).
 */
import { eventJson, type MirrorEvent } from './eventModel.ts';
import { DELIVERY_ID_HEADER, EVENT_TYPE_HEADER, webhookSignatureHeaders } from './webhookSignature.ts';

/** A failed webhook attempt. `retryable` is false for answers a retry cannot change (4xx, redirects). */
export class WebhookDeliveryError extends Error {
  override name = 'WebhookDeliveryError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }

  /** 410 Gone: the receiver asks never to be called again (the Standard Webhooks convention). */
  get gone(): boolean {
    return this.status === 410;
  }
}

/** 408 timeout, 425 too early, 429 rate limited and 5xx are worth retrying; other 4xx are not. */
export function isRetryableWebhookStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

export interface WebhookTarget {
  name: string;
  url: string;
  /** Signing secret(s), space-separated during a rotation; without one the request is sent unsigned. */
  secret?: string | undefined;
}

export interface PostWebhookOptions {
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** This delivery's id (`x-retab-mirror-delivery-id`). @default the event id */
  deliveryId?: string;
}

export async function postWebhook(
  target: WebhookTarget,
  event: MirrorEvent,
  opts: PostWebhookOptions = {},
): Promise<void> {
  // Serialised once per event, whatever the attempts and the webhooks (eventModel.ts).
  const body = eventJson(event);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'retab-mirror',
    ...webhookSignatureHeaders({
      id: event.eventId,
      payload: body,
      ...(target.secret ? { secret: target.secret } : {}),
    }),
    [DELIVERY_ID_HEADER]: opts.deliveryId ?? event.eventId,
    [EVENT_TYPE_HEADER]: event.type,
  };
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
    });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    const cause = (err as Error & { cause?: Error }).cause;
    const reason = timeout.aborted
      ? `timed out after ${opts.timeoutMs ?? 10_000} ms`
      : (cause?.message ?? (err as Error).message);
    throw new WebhookDeliveryError(`webhook ${target.name}: POST failed: ${reason}`, true);
  }
  // Drain the body so the connection can be reused; its content does not matter beyond the error text.
  const text = await res.text().catch(() => '');
  if (res.status >= 200 && res.status < 300) return;
  if (res.status >= 300 && res.status < 400) {
    throw new WebhookDeliveryError(
      `webhook ${target.name}: answered ${res.status} redirect (not followed); configure the final URL`,
      false,
      res.status,
    );
  }
  throw new WebhookDeliveryError(
    `webhook ${target.name}: answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    isRetryableWebhookStatus(res.status),
    res.status,
  );
}
