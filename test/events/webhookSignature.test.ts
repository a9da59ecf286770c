import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { eventsConfigProblems } from '../../src/events/createDispatcher.ts';
import { deliveryId } from '../../src/events/cursors.ts';
import { queueJobId } from '../../src/events/queueJobId.ts';
import {
  secretProblem,
  signWebhookPayload,
  verifyWebhookSignature,
  webhookSignatureHeaders,
} from '../../src/events/webhookSignature.ts';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const body = '{"eventId":"evt_1","type":"job.status_changed"}';
const id = 'evt_1';
const now = 1_780_000_000;
const headersAt = (timestamp: number, s = secret) =>
  webhookSignatureHeaders({ id, payload: body, secret: s, timestamp });

describe('Standard Webhooks signatures', () => {
  it('matches the reference library byte for byte, for whsec_ and raw secrets', () => {
    const ts = new Date(now * 1000);
    expect(signWebhookPayload({ id, payload: body, secret, timestamp: now })).toBe(
      new Webhook(secret).sign(id, ts, body),
    );
    expect(signWebhookPayload({ id, payload: body, secret: 'plain-secret', timestamp: now })).toBe(
      new Webhook('plain-secret', { format: 'raw' }).sign(id, ts, body),
    );
    expect(headersAt(now)).toEqual({
      'webhook-id': id,
      'webhook-timestamp': String(now),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    });
  });

  it('verifyWebhookSignature accepts its own signature and rejects a changed body, id, secret or timestamp', () => {
    const headers = headersAt(now);
    expect(verifyWebhookSignature({ payload: body, headers, secret, now })).toBe(true);
    expect(verifyWebhookSignature({ payload: Buffer.from(body), headers, secret, now })).toBe(true);
    expect(verifyWebhookSignature({ payload: `${body} `, headers, secret, now })).toBe(false);
    expect(verifyWebhookSignature({ payload: body, headers, secret: 'whsec_b3RoZXI=', now })).toBe(false);
    expect(
      verifyWebhookSignature({ payload: body, headers: { ...headers, 'webhook-id': 'evt_2' }, secret, now }),
    ).toBe(false);
    const forged = { ...headers, 'webhook-timestamp': String(now + 1) };
    expect(verifyWebhookSignature({ payload: body, headers: forged, secret, now })).toBe(false);
  });

  it('rejects timestamps beyond the tolerance either way', () => {
    const headers = headersAt(now);
    expect(verifyWebhookSignature({ payload: body, headers, secret, now: now + 300 })).toBe(true);
    expect(verifyWebhookSignature({ payload: body, headers, secret, now: now + 301 })).toBe(false);
    expect(verifyWebhookSignature({ payload: body, headers, secret, now: now - 301 })).toBe(false);
    expect(
      verifyWebhookSignature({ payload: body, headers, secret, now: now + 3600, toleranceSeconds: 3600 }),
    ).toBe(true);
  });

  it('signs with every secret of a rotation; a receiver holding either one verifies', () => {
    const headers = headersAt(now, `${secret} old-raw-secret`);
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    for (const s of [secret, 'old-raw-secret']) {
      expect(verifyWebhookSignature({ payload: body, headers, secret: s, now })).toBe(true);
    }
    expect(verifyWebhookSignature({ payload: body, headers, secret: 'third', now })).toBe(false);
    // The library checks against its own clock: sign now to verify with it.
    const fresh = webhookSignatureHeaders({ id, payload: body, secret: `${secret} old-raw-secret` });
    expect(new Webhook(secret).verify(body, fresh)).toEqual(JSON.parse(body));
    expect(new Webhook('old-raw-secret', { format: 'raw' }).verify(body, fresh)).toEqual(JSON.parse(body));
  });

  it('rejects missing or malformed headers and an empty secret', () => {
    const good = headersAt(now);
    for (const headers of [
      {},
      { ...good, 'webhook-signature': '' },
      { ...good, 'webhook-signature': 'v2,abc' },
      { ...good, 'webhook-timestamp': 'yesterday' },
      { 'webhook-timestamp': good['webhook-timestamp'], 'webhook-signature': good['webhook-signature'] },
    ]) {
      expect(verifyWebhookSignature({ payload: body, headers, secret, now })).toBe(false);
    }
    expect(verifyWebhookSignature({ payload: body, headers: good, secret: '', now })).toBe(false);
  });

  it('a whsec_ secret must carry base64; raw secrets are any printable ASCII', () => {
    expect(secretProblem('whsec_not-base64!')).toContain('base64');
    expect(secretProblem('whsec_')).toContain('base64');
    expect(secretProblem(secret)).toBeUndefined();
    expect(secretProblem('any raw secret')).toBeUndefined();
    const problems = eventsConfigProblems({
      webhooks: [{ name: 'ops', url: 'http://127.0.0.1:9/', secret: 'whsec_!!' }],
      webhookSecret: 'whsec_@',
      alertRules: [],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^WEBHOOK_SECRET: a "whsec_…" secret must be followed by base64/),
      expect.stringMatching(/^WEBHOOKS "ops" secret: a "whsec_…" secret must be followed by base64/),
    ]);
  });

  it('a webhook URL must be http(s) without credentials (fetch refuses those: every event would fail)', () => {
    const problems = eventsConfigProblems({
      webhooks: [
        { name: 'basic', url: 'https://ops:s3cret-pw@hooks.example.com/in', secret },
        { name: 'file', url: 'file:///etc/passwd', secret },
        { name: 'fine', url: 'https://hooks.example.com/in?token=abc', secret },
      ],
      webhookSecret: undefined,
      alertRules: [],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^WEBHOOKS "basic" url: .*credentials/),
      expect.stringMatching(/^WEBHOOKS "file" url: .*http/),
    ]);
    expect(problems.join(' ')).not.toContain('s3cret-pw');
  });

  it('accepts only secrets the reference library reads as the same key (else start-up names them)', () => {
    const ts = new Date(now * 1000);
    const referenceSignature = (s: string) => {
      try {
        return s.startsWith('whsec_')
          ? new Webhook(s).sign(id, ts, body)
          : new Webhook(s, { format: 'raw' }).sign(id, ts, body);
      } catch {
        return undefined; // the library cannot even load it
      }
    };
    // Unpadded or cut base64 (the library throws), non-ASCII raw secrets (it reads one byte per character).
    for (const s of ['whsec_abc', 'whsec_YQ', 'whsec_YWJjZGU', 'clé-secrète', 'pass🔑word']) {
      expect(secretProblem(s), s).toBeDefined();
    }
    for (const s of [secret, 'whsec_YQ==', 'whsec_YWI=', 'plain-secret', 'a~!@#$%^&*()_+{}|:"<>?']) {
      expect(secretProblem(s), s).toBeUndefined();
      expect(signWebhookPayload({ id, payload: body, secret: s, timestamp: now }), s).toBe(
        referenceSignature(s),
      );
    }
  });
});

describe('delivery ids and queue job ids', () => {
  it('a first delivery is the event id; each replay generation gives a new one', () => {
    expect(deliveryId('evt_a', 0)).toBe('evt_a');
    expect(new Set([0, 1, 2].map((g) => deliveryId('evt_a', g))).size).toBe(3);
  });

  it('maps any id to a valid BullMQ job id (no ":", not all digits), injectively', () => {
    expect(queueJobId('evt_AbC-12')).toBe('evt_AbC-12');
    const ids = ['a:b', 'a%3Ab', 'a/b', '12345', '%12345', 'x'];
    const mapped = ids.map((i) => queueJobId(i));
    expect(new Set(mapped).size).toBe(ids.length);
    for (const m of mapped) {
      expect(m).not.toContain(':');
      expect(m).not.toMatch(/^\d+$/);
    }
    expect(queueJobId('hook', 'a/b')).not.toBe(queueJobId('hook/a', 'b'));
  });
});
