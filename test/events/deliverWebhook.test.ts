/** The one webhook delivery path: its retry decision and its outcomes, against a real receiver. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverWebhook, webhookRetryDelay } from '../../src/events/deliverWebhook.ts';
import type { MirrorEvent } from '../../src/events/eventModel.ts';
import { WebhookDeliveryError } from '../../src/events/postWebhook.ts';
import { makeJob, type Receiver, startReceiver } from './helpers.ts';

const policy = { attempts: 3, backoffMs: 10, maxBackoffMs: 15, timeoutMs: 2000 };
let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});

const event = (seq: number): MirrorEvent => ({
  seq,
  eventId: `evt_test${seq}`,
  type: 'job.status_changed',
  jobId: makeJob(seq, 'failed').id,
  from: 'in_progress',
  to: 'failed',
  occurredAt: 1_780_000_000_000,
  observedAt: 1_780_000_000_500,
  inferred: false,
  backfill: false,
  job: makeJob(seq, 'failed', { metadata: { note: 'é "quoted"' } }),
});

describe('webhookRetryDelay', () => {
  it('retries 408/425/429/5xx and network errors with capped backoff (±20%); gives up on 4xx, redirects, or the last attempt', () => {
    const err = (status: number, retryable: boolean) => new WebhookDeliveryError('x', retryable, status);
    const first = webhookRetryDelay(err(503, true), 1, policy) ?? -1;
    expect(first).toBeGreaterThanOrEqual(8);
    expect(first).toBeLessThanOrEqual(12);
    expect(webhookRetryDelay(err(503, true), 2, policy)).toBeLessThanOrEqual(18); // capped at 15 before jitter
    expect(webhookRetryDelay(new Error('ECONNRESET'), 1, policy)).toBeGreaterThan(0);
    expect(webhookRetryDelay(err(422, false), 1, policy)).toBeUndefined();
    expect(webhookRetryDelay(err(503, true), 3, policy)).toBeUndefined();
  });
});

describe('deliverWebhook', () => {
  it('a 503 then a 204: delivered on attempt 2, both attempts the same bytes under the same delivery id', async () => {
    receiver.received.length = 0;
    receiver.respond = (_r, earlier) => (earlier.length === 0 ? 503 : 204);
    const target = { name: 'ops', url: receiver.url, secret: 'a-secret' };
    const outcome = await deliverWebhook(target, event(1), { policy, deliveryId: 'evt_test1.r2' });
    expect(outcome).toEqual({ result: 'delivered', attempts: 2 });
    const [a, b] = receiver.received;
    expect(a?.body).toBe(b?.body);
    expect(JSON.parse(a?.body ?? '')).toEqual(event(1));
    expect([a?.headers['x-retab-mirror-delivery-id'], b?.headers['x-retab-mirror-delivery-id']]).toEqual([
      'evt_test1.r2',
      'evt_test1.r2',
    ]);
  });

  it('ends failed after the policy’s attempts, gone at a 410 (one attempt), and rejects once the signal aborts', async () => {
    const target = { name: 'ops', url: receiver.url };
    receiver.respond = () => 500;
    const failed = await deliverWebhook(target, event(2), { policy, deliveryId: 'd' });
    expect(failed).toMatchObject({ result: 'failed', attempts: 3 });
    expect(failed.result === 'failed' && failed.lastError).toContain('500');

    receiver.respond = () => 410;
    expect(await deliverWebhook(target, event(3), { policy, deliveryId: 'd' })).toMatchObject({
      result: 'gone',
      attempts: 1,
    });

    receiver.respond = () => 503;
    const stop = new AbortController();
    const pending = deliverWebhook(target, event(4), {
      policy: { ...policy, backoffMs: 60_000, maxBackoffMs: 60_000 },
      deliveryId: 'd',
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(new Error('stopped')), 100);
    await expect(pending).rejects.toThrow();
  });
});
