/**
 * `events replay` re-sends: the re-adds of a replay are new deliveries (new delivery ids, same event ids),
 * so neither the events queue (which ignores a job id it holds) nor a webhook drops them. On every store
 * (test/stores.ts): the CLI gets the file path or the database URL as `MIRROR_DB`.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { AlertRuleSchema } from '../../src/config.ts';
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

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
const connection = { url: inject('redisUrl') };
let receiver: Receiver;
/** A fresh queue prefix per test: the queue holds what an earlier store's run added. */
let prefix = '';
let queue: Queue<MirrorEvent> | undefined;

const webhooks = () => [{ name: 'ops', url: receiver.url, secret: 'replay-secret' }];
const rules = [AlertRuleSchema.parse({ name: 'all', when: { includeBackfill: true }, sinks: ['ops'] })];

beforeAll(async () => {
  receiver = await startReceiver();
});
afterEach(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  queue = undefined;
  receiver.received.length = 0;
});
afterAll(async () => {
  await receiver.close();
});

const getCursor = async (m: MirrorStore, sink: string) => (await m.cursors.get(sink))?.seq;

/** `retab-mirror events replay` as a user runs it, against the mirror at `location`. */
function replayCli(location: string, sink: string): string {
  const r = spawnSync(process.execPath, [bin, 'events', 'replay', '--from-seq', '1', '--sink', sink], {
    encoding: 'utf8',
    env: {
      ...process.env,
      MIRROR_DB: location,
      LOG_LEVEL: 'silent',
      WEBHOOKS: JSON.stringify(webhooks()),
      ALERT_RULES: '',
    },
    timeout: 30_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

forEachStore((store) =>
  describe('events replay re-delivers', () => {
    it('300 delivered events, replayed from seq 1 to a webhook and to the queue: 300 new POSTs and 300 new queue jobs', async () => {
      prefix = `test-${randomUUID()}`;
      const q = new Queue<MirrorEvent>('events', { connection, prefix });
      queue = q;
      const location = await store.location();
      const mirror = await store.reopen(location);
      await insertEvents(mirror, 300);
      const ids = await outboxIds(mirror);
      const d = createDispatcher({
        mirror,
        config: {
          webhooks: webhooks(),
          webhookSecret: undefined,
          alertRules: rules,
          eventsQueue: 'events',
          eventsQueueEnabled: true,
          queuePrefix: prefix,
        },
        redis: { connection },
        log: false,
        pollMs: 50,
        webhook: { concurrency: 4 },
      });
      d.start();
      await d.drain({ timeoutMs: 30_000 });
      expect(receiver.received.map((r) => r.event.eventId)).toEqual(ids);
      expect(await q.getJobCountByTypes('waiting')).toBe(300);

      // While the dispatcher runs, as after any delivery: the user replays both sinks.
      expect(replayCli(location, 'ops')).toContain('ops: cursor set to 0');
      expect(replayCli(location, 'queue')).toContain('delivery ids <eventId>.r1');
      await waitFor(() => receiver.received.length === 600, 30_000, '300 re-sent POSTs');
      await waitFor(async () => (await q.getJobCountByTypes('waiting')) === 600, 30_000, '300 new jobs');
      await d.stop();

      const [first, again] = [receiver.received.slice(0, 300), receiver.received.slice(300)];
      expect(again.map((r) => r.event.eventId)).toEqual(ids);
      expect(first.map((r) => r.headers['x-retab-mirror-delivery-id'])).toEqual(ids);
      expect(again.map((r) => r.headers['x-retab-mirror-delivery-id'])).toEqual(ids.map((id) => `${id}.r1`));
      // webhook-id is the event id on both: what receivers dedupe on.
      expect(again.map((r) => r.headers['webhook-id'])).toEqual(ids);

      const jobs = await q.getJobs(['waiting'], 0, -1, true);
      expect(jobs.map((j) => j.id)).toEqual([...ids, ...ids.map((id) => `${id}.r1`)]);
      expect(jobs.map((j) => j.data.eventId)).toEqual([...ids, ...ids]);
      for (const sink of ['ops', 'queue']) expect(await getCursor(mirror, sink)).toBe(300);
    }, 60_000);
  }),
);
