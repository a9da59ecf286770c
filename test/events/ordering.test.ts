/**
 * Webhook ordering under retries, the message-group model with the job as the group: a job's events reach
 * the receiver in outbox order even when one of them is retried (its later events wait), while other jobs'
 * events go on meanwhile. Run through a dispatcher configured as the worker's (Redis given), on every store
 * (test/stores.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AlertRuleSchema } from '../../src/config.ts';
import { createDispatcher } from '../../src/events/createDispatcher.ts';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { forEachStore, type StoreUnderTest } from '../stores.ts';
import { appendTestEvents as insertEvents, type Receiver, startReceiver } from './helpers.ts';

const connection = { url: inject('redisUrl') };
const JOBS = 8;
const EVENTS = 40;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});

async function deliverWithRetries(store: StoreUnderTest, batchSize?: number) {
  const mirror: MirrorStore = await store.open();
  receiver.received.length = 0;
  // 40 events of 8 jobs, interleaved: job k has seqs k+1, k+9, k+17, … (5 each).
  await insertEvents(mirror, EVENTS, (i) => ({
    job: { id: `job_order${String(i % JOBS).padStart(16, '0')}` },
  }));
  receiver.respond = (r, earlier) => (r.event.seq % 10 === 0 && earlier.length === 0 ? 503 : 204);
  const d = createDispatcher({
    mirror,
    config: {
      webhooks: [{ name: 'ops', url: receiver.url, secret: 'order-secret' }],
      webhookSecret: undefined,
      alertRules: [AlertRuleSchema.parse({ name: 'all', when: { includeBackfill: true }, sinks: ['ops'] })],
      eventsQueue: 'events',
      eventsQueueEnabled: false,
      queuePrefix: `test-${randomUUID()}`,
    },
    redis: { connection },
    log: false,
    webhook: { attempts: 3, backoffMs: 50, maxBackoffMs: 100 },
    ...(batchSize ? { batchSize } : {}),
  });
  d.start();
  await d.drain({ timeoutMs: 20_000 });
  await d.stop();
  const delivered = receiver.received.filter((r) => r.answered === 204);
  return { mirror, delivered, at: (seq: number) => delivered.findIndex((r) => r.event.seq === seq) };
}

forEachStore((store) =>
  describe('per-job order survives retries', () => {
    it('503 on the first attempt of every 10th event: each job in outbox order, others not held up, POSTs = events + retries', async () => {
      const { mirror, delivered, at } = await deliverWithRetries(store);
      const got = receiver.received;
      expect(got).toHaveLength(EVENTS + 4); // 40 events + one retry each for seq 10, 20, 30, 40
      expect(got.filter((r) => r.answered === 503).map((r) => r.event.seq)).toEqual([10, 20, 30, 40]);
      expect(delivered.map((r) => r.event.seq).sort((x, y) => x - y)).toEqual(
        Array.from({ length: EVENTS }, (_, i) => i + 1),
      );
      // Per job: outbox order at the receiver.
      for (let k = 0; k < JOBS; k++) {
        const seqs = delivered.filter((r) => (r.event.seq - 1) % JOBS === k).map((r) => r.event.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
      // Other jobs did not queue behind the retry: seq 11 (another job) arrived before 10's redelivery...
      expect(at(11)).toBeLessThan(at(10));
      // ...while 10's own job (seqs 2, 10, 18, 26, 34) waited for it.
      expect(at(18)).toBeGreaterThan(at(10));
      expect(await mirror.deadLetters.list()).toEqual([]);
      expect((await mirror.cursors.get('ops'))?.seq).toBe(EVENTS);
    });

    it('the next batch waits for a retry in the current one (batches of 20: seq 21 comes after 10)', async () => {
      const { delivered, at } = await deliverWithRetries(store, 20);
      expect(delivered).toHaveLength(EVENTS);
      expect(at(11)).toBeLessThan(at(10));
      expect(at(20)).toBeGreaterThan(at(19)); // 20 is itself retried: after the rest of its batch
      expect(at(21)).toBeGreaterThan(at(10));
      expect(at(21)).toBeGreaterThan(at(20));
    });
  }),
);
