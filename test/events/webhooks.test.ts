import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlertRuleSchema } from '../../src/config.ts';
import { createDispatcher, type EventsConfig } from '../../src/events/createDispatcher.ts';
import { retryDeadLetters } from '../../src/events/retryDeadLetters.ts';
import { verifyWebhookSignature } from '../../src/events/webhookSignature.ts';
import type { ListDeadLettersOptions, MirrorStore } from '../../src/mirror/index.ts';
import { captureLogs } from '../queue/helpers.ts';
import { forEachStore } from '../stores.ts';
import {
  appendTestEvents as insertEvents,
  storeOutboxIds as outboxIds,
  type Receiver,
  startReceiver,
  waitFor,
} from './helpers.ts';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;

const prefix = `test-${randomUUID()}`;
const SECRET = 'raw-webhook-secret';
let receiver: Receiver;
/** This test's mirror and where it lives (the CLI children open the same location as MIRROR_DB). */
let mirror: MirrorStore;
let location: string | undefined;

const config = (url = receiver.url): EventsConfig => ({
  webhooks: [{ name: 'ops', url, secret: SECRET }],
  alertRules: [AlertRuleSchema.parse({ name: 'all-live', when: {}, sinks: ['ops'] })],
  eventsQueue: 'events',
  eventsQueueEnabled: false,
  queuePrefix: prefix,
});
const fast = { attempts: 3, backoffMs: 10, maxBackoffMs: 20, timeoutMs: 2000 };

beforeAll(async () => {
  receiver = await startReceiver();
});
afterEach(() => {
  location = undefined;
  receiver.received.length = 0;
  receiver.status = 204;
  delete receiver.respond;
});
afterAll(async () => {
  await receiver.close();
});

const getCursor = async (m: MirrorStore, sink: string) => (await m.cursors.get(sink))?.seq;
const listDeadLetters = (m: MirrorStore, opts?: ListDeadLettersOptions) => m.deadLetters.list(opts);

forEachStore((store) => {
  /** A fresh mirror for this test, its location kept for the CLI. */
  async function fresh(): Promise<MirrorStore> {
    location = await store.location();
    mirror = await store.reopen(location);
    return mirror;
  }

  describe('webhook signatures', () => {
    it('the receiver verifies each request with the exported helper; a tampered body fails', async () => {
      await fresh();
      await insertEvents(mirror, 3);
      const d = createDispatcher({ mirror, config: config(), webhook: fast, log: false });
      await d.drain();
      await d.stop();
      expect(receiver.received).toHaveLength(3);
      for (const { body, headers } of receiver.received) {
        expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
        expect(verifyWebhookSignature({ payload: body, headers, secret: SECRET })).toBe(true);
        expect(
          verifyWebhookSignature({ payload: body.replace('"seq":', '"seq":1'), headers, secret: SECRET }),
        ).toBe(false);
        expect(verifyWebhookSignature({ payload: body, headers, secret: 'another-secret' })).toBe(false);
      }
    });
  });

  describe('webhook retries and dead letters', () => {
    it('in-process: a receiver answering 500 gets every attempt, then the event is dead-lettered; `events retry` delivers it once fixed', async () => {
      await fresh();
      await insertEvents(mirror, 2);
      receiver.status = 500;
      const d = createDispatcher({ mirror, config: config(), webhook: fast, log: false });
      await d.drain({ timeoutMs: 10_000 });
      await d.stop();
      // 3 attempts for each of the 2 events, then the cursor moved on.
      expect(receiver.received).toHaveLength(6);
      expect(await getCursor(mirror, 'ops')).toBe(2);
      const failed = await listDeadLetters(mirror);
      // Listed in the order they gave up: two jobs' retries interleave, so that order is the receiver's timing.
      expect(failed.map((f) => f.eventId).sort()).toEqual((await outboxIds(mirror)).sort());
      expect(failed[0]).toMatchObject({ sink: 'ops', seq: 1, attempts: 3, resolvedAt: null });
      expect(failed[0]?.lastError).toContain('500');

      receiver.status = 200;
      receiver.received.length = 0;
      const results = await retryDeadLetters({
        mirror,
        config: config(),
        ids: [failed[0]?.id ?? -1],
      });
      expect(results).toEqual([expect.objectContaining({ ok: true, eventId: failed[0]?.eventId })]);
      expect(receiver.received.map((r) => r.event.eventId)).toEqual([failed[0]?.eventId]);
      expect((await listDeadLetters(mirror)).map((f) => f.id)).toEqual([failed[1]?.id]);
      const all = await retryDeadLetters({ mirror, config: config(), all: true });
      expect(all.every((r) => r.ok)).toBe(true);
      expect(await listDeadLetters(mirror)).toEqual([]);
      const resolved = await listDeadLetters(mirror, { includeResolved: true });
      expect(resolved.every((f) => f.resolvedAt !== null && f.attempts === 4)).toBe(true);
    });

    it('a 4xx answer is not retried, and redirects are never followed', async () => {
      await fresh();
      await insertEvents(mirror, 1);
      receiver.status = 422;
      const d = createDispatcher({ mirror, config: config(), webhook: fast, log: false });
      await d.drain({ timeoutMs: 10_000 });
      expect(receiver.received).toHaveLength(1);
      expect((await listDeadLetters(mirror))[0]).toMatchObject({ attempts: 1 });

      receiver.status = 307;
      await insertEvents(mirror, 1);
      await d.drain({ timeoutMs: 10_000 });
      await d.stop();
      expect(receiver.received).toHaveLength(2);
      expect((await listDeadLetters(mirror))[1]?.lastError).toContain('redirect');
    });

    it('a resend that fails again keeps the dead letter open, with its attempts counted', async () => {
      await fresh();
      await insertEvents(mirror, 2);
      receiver.status = 503;
      const d = createDispatcher({ mirror, config: config(), webhook: fast, log: false });
      await d.drain({ timeoutMs: 10_000 });
      await d.stop();
      expect(receiver.received).toHaveLength(6);
      expect((await listDeadLetters(mirror)).map((f) => f.attempts)).toEqual([3, 3]);

      const again = await retryDeadLetters({ mirror, config: config(), all: true });
      expect(again.every((r) => !r.ok && r.error?.includes('503'))).toBe(true);
      expect((await listDeadLetters(mirror)).map((f) => f.attempts)).toEqual([4, 4]);

      receiver.status = 204;
      receiver.received.length = 0;
      expect((await retryDeadLetters({ mirror, config: config(), all: true })).every((r) => r.ok)).toBe(true);
      // Resent in dead-letter order (the order they gave up, which the two jobs' interleaved retries decide).
      const letters = await listDeadLetters(mirror, { includeResolved: true });
      expect(receiver.received.map((r) => r.event.eventId)).toEqual(letters.map((f) => f.eventId));
      expect(letters.map((f) => f.eventId).sort()).toEqual((await outboxIds(mirror)).sort());
      // A resend is a new delivery of the same event: same webhook-id, a new delivery id.
      for (const r of receiver.received) {
        expect(r.headers['webhook-id']).toBe(r.event.eventId);
        expect(r.headers['x-retab-mirror-delivery-id']).toBe(`${r.event.eventId}.d5`);
      }
    });
  });

  describe('410 Gone', () => {
    it('disables the webhook (logged once, shown by `events cursors`) instead of retrying; `events enable` resumes where it stopped', async () => {
      await fresh();
      await insertEvents(mirror, 5);
      receiver.respond = (r) => (r.event.seq >= 3 ? 410 : 204);
      const { logger, lines } = captureLogs('info');
      const d = createDispatcher({ mirror, config: config(), webhook: fast, logger, log: false });
      d.start();
      await d.drain({ timeoutMs: 10_000 }); // a disabled sink does not hold up a drain
      await insertEvents(mirror, 3);
      d.notify();
      await d.drain({ timeoutMs: 10_000 });
      // One attempt at seq 3, no retry, nothing after it.
      expect(receiver.received.map((r) => [r.event.seq, r.answered])).toEqual([
        [1, 204],
        [2, 204],
        [3, 410],
      ]);
      expect(await getCursor(mirror, 'ops')).toBe(2);
      expect(await listDeadLetters(mirror)).toEqual([]);
      expect(lines.filter((l) => String(l.msg).includes('disabled'))).toHaveLength(1);
      expect(d.status().find((s) => s.sink === 'ops')?.disabledAt).toBeGreaterThan(0);

      const cursors = runEvents(['events', 'cursors']);
      expect(cursors).toMatch(/ops +2 +6 +0 +\S+ +disabled since \S+: webhook ops answered 410 Gone/);

      receiver.respond = () => 204;
      receiver.received.length = 0;
      expect(runEvents(['events', 'enable', '--sink', 'ops'])).toContain('ops: enabled');
      await waitFor(() => receiver.received.length === 6, 10_000, 'delivery resumed');
      await d.stop();
      expect(receiver.received.map((r) => r.event.eventId)).toEqual((await outboxIds(mirror)).slice(2));
      expect(await getCursor(mirror, 'ops')).toBe(8);
    });
  });
});

/** The real CLI against this test's mirror (a file, or the PostgreSQL URL). */
function runEvents(args: string[]): string {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, MIRROR_DB: location, LOG_LEVEL: 'silent', WEBHOOKS: '', ALERT_RULES: '' },
    timeout: 30_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}
