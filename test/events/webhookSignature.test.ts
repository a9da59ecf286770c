import { describe, expect, it } from 'vitest';
import { queueJobId } from '../../src/events/queueJobId.ts';
import { signWebhookPayload, verifyWebhookSignature } from '../../src/events/webhookSignature.ts';

const secret = 'whsec-unit';
const body = '{"eventId":"evt_1","type":"job.status_changed"}';
const now = 1_780_000_000;

describe('verifyWebhookSignature', () => {
  it('accepts the signature it produced and rejects any change of body, secret or timestamp', () => {
    const header = signWebhookPayload(body, secret, now);
    expect(header).toMatch(/^t=1780000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature({ payload: body, header, secret, now })).toBe(true);
    expect(verifyWebhookSignature({ payload: Buffer.from(body), header, secret, now })).toBe(true);
    expect(verifyWebhookSignature({ payload: `${body} `, header, secret, now })).toBe(false);
    expect(verifyWebhookSignature({ payload: body, header, secret: 'other', now })).toBe(false);
    const forged = header.replace('t=1780000000', 't=1780000001');
    expect(verifyWebhookSignature({ payload: body, header: forged, secret, now })).toBe(false);
  });

  it('rejects stale or future timestamps beyond the tolerance', () => {
    const header = signWebhookPayload(body, secret, now);
    expect(verifyWebhookSignature({ payload: body, header, secret, now: now + 300 })).toBe(true);
    expect(verifyWebhookSignature({ payload: body, header, secret, now: now + 301 })).toBe(false);
    expect(verifyWebhookSignature({ payload: body, header, secret, now: now - 301 })).toBe(false);
    expect(
      verifyWebhookSignature({ payload: body, header, secret, now: now + 3600, toleranceSeconds: 3600 }),
    ).toBe(true);
  });

  it('accepts any of several v1 signatures (secret rotation) and rejects malformed headers', () => {
    const old = signWebhookPayload(body, 'old-secret', now).split(',')[1];
    const header = `${signWebhookPayload(body, secret, now)},${old}`;
    expect(verifyWebhookSignature({ payload: body, header, secret: 'old-secret', now })).toBe(true);
    expect(verifyWebhookSignature({ payload: body, header, secret, now })).toBe(true);
    for (const bad of [
      '',
      'garbage',
      `t=${now}`,
      `v1=${'a'.repeat(64)}`,
      `t=${now},v1=zz`,
      undefined,
      null,
    ]) {
      expect(verifyWebhookSignature({ payload: body, header: bad, secret, now })).toBe(false);
    }
    expect(
      verifyWebhookSignature({
        payload: body,
        header: signWebhookPayload(body, secret, now),
        secret: '',
        now,
      }),
    ).toBe(false);
  });
});

describe('queueJobId', () => {
  it('maps any id to a valid BullMQ job id (no ":", not all digits), injectively', () => {
    expect(queueJobId('evt_AbC-12')).toBe('evt_AbC-12');
    const ids = ['a:b', 'a%3Ab', 'a/b', '12345', '%12345', 'x'];
    const mapped = ids.map((id) => queueJobId(id));
    expect(new Set(mapped).size).toBe(ids.length);
    for (const m of mapped) {
      expect(m).not.toContain(':');
      expect(m).not.toMatch(/^\d+$/);
    }
    expect(queueJobId('hook', 'a/b')).not.toBe(queueJobId('hook/a', 'b'));
  });
});
