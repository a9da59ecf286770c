import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { AlertRuleSchema } from '../../src/config.ts';
import type { EventsConfig } from '../../src/events/createDispatcher.ts';
import { createDispatcher } from '../../src/events/createDispatcher.ts';
import type { MirrorEvent } from '../../src/events/types.ts';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { forEachStore } from '../stores.ts';
import {
  appendTestEvents as insertEvents,
  storeOutboxIds as outboxIds,
  type Receiver,
  startReceiver,
  waitFor,
} from './helpers.ts';

/** A fresh queue prefix per test: BullMQ ignores a job id it holds, and each store's run writes the same ids. */
let prefix = '';
const connection = { url: inject('redisUrl') };
// A Standard Webhooks secret, as `openssl rand -base64 32` would make one.
const SECRET = 'whsec_3q2+7wZ8kQm0Yp1r5N6sT9vXbC4dEfGhIjKlMnOpQrs=';
let receiver: Receiver;

const config = (): EventsConfig => ({
  webhooks: [{ name: 'hook', url: receiver.url }],
  webhookSecret: SECRET,
  // Route every event, history included, to the webhook, so it must see the whole outbox.
  alertRules: [
    AlertRuleSchema.parse({ name: 'everything', when: { includeBackfill: true }, sinks: ['hook'] }),
  ],
  eventsQueue: 'events',
  eventsQueueEnabled: true,
  queuePrefix: prefix,
});

beforeAll(async () => {
  receiver = await startReceiver();
});

beforeEach(() => {
  prefix = `test-${randomUUID()}`;
});

afterEach(async () => {
  receiver.received.length = 0;
  const q = new Queue('events', { connection, prefix });
  await q.obliterate({ force: true });
  await q.close();
});

afterAll(async () => {
  await receiver.close();
});

const getCursor = async (m: MirrorStore, sink: string) => (await m.cursors.get(sink))?.seq;

/** Consume the events queue with a real BullMQ worker (concurrency 1: FIFO) until `n` jobs were seen. */
async function consumeEvents(n: number): Promise<{ name: string; data: MirrorEvent; id: string }[]> {
  const seen: { name: string; data: MirrorEvent; id: string }[] = [];
  const worker = new Worker<MirrorEvent>(
    'events',
    async (job) => {
      seen.push({ name: job.name, data: job.data, id: job.id ?? '' });
    },
    { connection, prefix, concurrency: 1 },
  );
  await waitFor(() => seen.length >= n, 20_000, `${n} queued events`);
  await worker.close();
  return seen;
}

const isAscending = (xs: number[]) => xs.every((x, i) => i === 0 || x > (xs[i - 1] as number));

forEachStore((store) =>
  describe('dispatcher delivery to every sink', () => {
    it('delivers 300 outbox events to the emitter, the BullMQ queue and a signed webhook, in seq order; the standardwebhooks library verifies each', async () => {
      const mirror = await store.open();
      await insertEvents(mirror, 300, (i) => ({
        backfill: i % 10 === 0,
        type: i % 7 === 0 ? 'job.discovered' : 'job.status_changed',
      }));
      const dispatcher = createDispatcher({
        mirror,
        config: config(),
        redis: { connection },
        batchSize: 64,
        log: false,
      });
      const viaEmitter: MirrorEvent[] = [];
      dispatcher.emitter.on('job.status_changed', (e) => {
        viaEmitter.push(e);
      });
      dispatcher.emitter.on('job.discovered', (e) => {
        viaEmitter.push(e);
      });
      dispatcher.start();
      await dispatcher.drain({ timeoutMs: 20_000 });
      const outbox = await outboxIds(mirror);
      expect(outbox).toHaveLength(300);

      expect(viaEmitter.map((e) => e.eventId)).toEqual(outbox);

      const queued = await consumeEvents(300);
      expect(queued.map((j) => j.data.eventId)).toEqual(outbox);
      expect(queued.every((j) => j.name === j.data.type && j.id === j.data.eventId)).toBe(true);
      expect(queued[0]?.data.job.id).toMatch(/^job_/);

      await waitFor(() => receiver.received.length >= 300, 20_000, '300 webhook requests');
      const hooks = receiver.received;
      expect(hooks.map((h) => h.event.eventId)).toEqual(outbox);
      expect(isAscending(hooks.map((h) => h.event.seq))).toBe(true);
      // Receivers verify with the reference Standard Webhooks library: every real delivery passes, and a
      // tampered body, a wrong secret or a timestamp older than 5 minutes does not.
      const wh = new Webhook(SECRET);
      const headersOf = (h: (typeof hooks)[number]) => h.headers as Record<string, string>;
      for (const h of hooks) {
        expect(h.headers['webhook-id']).toBe(h.event.eventId);
        expect(wh.verify(h.body, headersOf(h))).toEqual(JSON.parse(h.body));
        expect(() => wh.verify(h.body.replace('"seq":', '"seq":1'), headersOf(h))).toThrow(
          /No matching signature/,
        );
      }
      const sample = hooks[0] as (typeof hooks)[number];
      expect(() => new Webhook('whsec_d3Jvbmcgc2VjcmV0').verify(sample.body, headersOf(sample))).toThrow(
        /No matching signature/,
      );
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime((Number(sample.headers['webhook-timestamp']) + 301) * 1000);
        expect(() => wh.verify(sample.body, headersOf(sample))).toThrow(/too old/);
      } finally {
        vi.useRealTimers();
      }
      // Every sink acknowledged up to the last seq.
      const last = hooks.at(-1)?.event.seq ?? -1;
      for (const sink of ['emitter', 'queue', 'hook']) expect(await getCursor(mirror, sink)).toBe(last);
      await dispatcher.stop();
    });

    it('a dispatcher stopped after the write and before delivery delivers everything after a restart', async () => {
      const location = await store.location();
      const mirror = await store.reopen(location);
      const first = createDispatcher({
        mirror,
        config: config(),
        redis: { connection },
        log: false,
      });
      const lost: string[] = [];
      first.emitter.on('job.status_changed', (e) => {
        lost.push(e.eventId);
      });
      first.start();
      await first.drain();
      // The page commits, then the process dies before the dispatcher runs: nothing was delivered.
      await first.stop();
      await insertEvents(mirror, 40);
      first.notify();
      expect(lost).toEqual([]);

      const reopened = await store.reopen(location);
      const second = createDispatcher({
        mirror: reopened,
        config: config(),
        redis: { connection },
        log: false,
      });
      const got: string[] = [];
      second.emitter.on('job.status_changed', (e) => {
        got.push(e.eventId);
      });
      second.start();
      await second.drain({ timeoutMs: 20_000 });
      expect(got).toEqual(await outboxIds(reopened));
      await waitFor(() => receiver.received.length >= 40, 20_000, 'webhooks after restart');
      expect(receiver.received.map((h) => h.event.eventId)).toEqual(got);
      const queued = await consumeEvents(40);
      expect(queued.map((j) => j.data.eventId)).toEqual(got);
      await second.stop();
    });

    it('an unreachable Redis blocks only the queue sink, and stop() does not hang on it', async () => {
      const mirror = await store.open();
      await insertEvents(mirror, 10);
      const port = await closedPort();
      const d = createDispatcher({
        mirror,
        config: { ...config(), webhooks: [], alertRules: [] },
        redis: { connection: { host: '127.0.0.1', port } },
        log: false,
        stopTimeoutMs: 300,
      });
      const got: number[] = [];
      d.emitter.on('job.status_changed', (e) => {
        got.push(e.seq);
      });
      d.start();
      await waitFor(() => got.length === 10, 5000, 'emitter despite Redis down');
      expect(d.status().find((s) => s.sink === 'queue')).toMatchObject({ cursor: 0, lag: 10 });
      await d.stop();
      expect(await getCursor(mirror, 'queue')).toBe(0);
    });
  }),
);

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}
