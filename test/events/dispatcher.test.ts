/** The dispatcher over the store seam, on both stores (test/stores.ts). */
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher, DrainTimeoutError } from '../../src/events/dispatcher.ts';
import { createMirrorEvents } from '../../src/events/mirrorEvents.ts';
import { createEmitterSink } from '../../src/events/sinks/emitterSink.ts';
import type { EventSink, MirrorEvent } from '../../src/events/types.ts';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { forEachStore, type StoreUnderTest } from '../stores.ts';
import {
  appendTestEvents as insertEvents,
  makeJob,
  storeOutboxIds as outboxIds,
  waitFor,
} from './helpers.ts';

const dispatchers: Dispatcher[] = [];
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.stop();
});

const getCursor = async (m: MirrorStore, sink: string) => (await m.cursors.get(sink))?.seq;

/** A fresh mirror, and `reopen()`: another connection to it (a restarted process). */
async function tempStore(store: StoreUnderTest) {
  const location = await store.location();
  const mirror = await store.reopen(location);
  return { mirror, reopen: () => store.reopen(location) };
}

function track(d: Dispatcher): Dispatcher {
  dispatchers.push(d);
  return d;
}

/** A sink that records what it got; `fail(events)` can make a delivery throw. */
function recordingSink(
  name: string,
  fail?: (events: MirrorEvent[]) => boolean,
): EventSink & { got: MirrorEvent[] } {
  const got: MirrorEvent[] = [];
  return {
    name,
    kind: 'feed',
    got,
    async deliver(events, ctx) {
      for (const e of events) {
        if (fail?.([e])) throw new Error(`${name} is down`);
        got.push(e);
        ctx.ack(e.seq);
      }
    },
  };
}

forEachStore((store) => {
  describe('Dispatcher', () => {
    it('a crash mid-batch re-delivers from the last acknowledged event after a restart, skipping none', async () => {
      const tmp = await tempStore(store);
      await insertEvents(tmp.mirror, 120);
      const outbox = await outboxIds(tmp.mirror);
      // The first process delivers 45 events, then "crashes" inside the batch.
      const crashing = recordingSink('audit', (es) => (es[0]?.seq ?? 0) > 45);
      const first = track(new Dispatcher({ mirror: tmp.mirror, sinks: [crashing], retryMinMs: 60_000 }));
      await expect(first.drain({ timeoutMs: 300 })).rejects.toBeInstanceOf(DrainTimeoutError);
      await first.stop();
      expect(crashing.got).toHaveLength(45);
      expect(await getCursor(tmp.mirror, 'audit')).toBe(45);

      const reopened = await tmp.reopen();
      const healthy = recordingSink('audit');
      const second = track(new Dispatcher({ mirror: reopened, sinks: [healthy], batchSize: 50 }));
      await second.drain();
      const union = [...crashing.got, ...healthy.got].map((e) => e.eventId);
      expect(union).toEqual(outbox);
      expect(await getCursor(reopened, 'audit')).toBe(120);
    });

    it('a failing sink blocks only itself, retries with backoff and catches up when it recovers', async () => {
      const tmp = await tempStore(store);
      let down = true;
      const flaky = recordingSink('flaky', () => down);
      const healthy = recordingSink('healthy');
      const d = track(
        new Dispatcher({
          mirror: tmp.mirror,
          sinks: [flaky, healthy],
          pollMs: 20,
          retryMinMs: 30,
          retryMaxMs: 60,
        }),
      );
      d.start();
      await insertEvents(tmp.mirror, 30);
      d.notify();
      await waitFor(() => healthy.got.length === 30, 5000, 'healthy sink');
      await waitFor(() => (d.status().find((s) => s.sink === 'flaky')?.failures ?? 0) >= 2, 5000, 'retries');
      const flakyStatus = d.status().find((s) => s.sink === 'flaky');
      expect(flakyStatus).toMatchObject({ cursor: 0, lag: 30, lastError: 'flaky is down' });
      expect(flaky.got).toEqual([]);

      down = false;
      await d.drain({ timeoutMs: 5000 });
      expect(flaky.got.map((e) => e.eventId)).toEqual(await outboxIds(tmp.mirror));
      expect(d.status().find((s) => s.sink === 'flaky')).toMatchObject({ cursor: 30, failures: 0 });
    });

    it('a drain timeout longer than a timer can hold (2^31 ms, `sync --events-timeout 3000000`) waits, not gives up at once', async () => {
      const tmp = await tempStore(store);
      let down = true;
      const flaky = recordingSink('flaky', () => down);
      const d = track(new Dispatcher({ mirror: tmp.mirror, sinks: [flaky], retryMinMs: 30, retryMaxMs: 60 }));
      await insertEvents(tmp.mirror, 5);
      let outcome: unknown = 'pending';
      const drained = d.drain({ timeoutMs: 3_000_000_000 }).then(
        () => (outcome = 'drained'),
        (err: unknown) => (outcome = err),
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(outcome).toBe('pending'); // a 1 ms timer (Node's overflow fallback) would have rejected it
      down = false;
      await drained;
      expect(outcome).toBe('drained');
      expect(flaky.got).toHaveLength(5);
    });

    it('notify() wakes delivery at once; the poll picks up writes nobody announced', async () => {
      const tmp = await tempStore(store);
      const a = recordingSink('a');
      const announced = track(new Dispatcher({ mirror: tmp.mirror, sinks: [a], pollMs: 60_000 }));
      announced.start();
      await insertEvents(tmp.mirror, 5);
      announced.notify();
      await waitFor(() => a.got.length === 5, 2000, 'notify');

      const b = recordingSink('b');
      const polling = track(new Dispatcher({ mirror: await tmp.reopen(), sinks: [b], pollMs: 25 }));
      polling.start();
      await insertEvents(tmp.mirror, 3); // written by "another process": no notify
      await waitFor(() => b.got.length === 8, 2000, 'poll');
    });

    it('stop() waits for the in-flight batch and keeps its acknowledgement', async () => {
      const tmp = await tempStore(store);
      await insertEvents(tmp.mirror, 10);
      let started!: () => void;
      const inFlight = new Promise<void>((r) => {
        started = r;
      });
      let finished = false;
      const slow: EventSink = {
        name: 'slow',
        kind: 'feed',
        async deliver() {
          started();
          await new Promise((r) => setTimeout(r, 150));
          finished = true;
        },
      };
      const d = new Dispatcher({ mirror: tmp.mirror, sinks: [slow] });
      d.start();
      await inFlight;
      await d.stop();
      expect(finished).toBe(true);
      expect(await getCursor(tmp.mirror, 'slow')).toBe(10);
    });

    it('replay rewinds a sink while the dispatcher runs; the in-flight batch does not overwrite it', async () => {
      const tmp = await tempStore(store);
      await insertEvents(tmp.mirror, 20);
      const sink = recordingSink('replayed');
      const d = track(new Dispatcher({ mirror: tmp.mirror, sinks: [sink], pollMs: 20 }));
      d.start();
      await d.drain();
      expect(sink.got).toHaveLength(20);
      await tmp.mirror.cursors.replayFrom('replayed', 11);
      await waitFor(() => sink.got.length === 30, 3000, 'replayed events');
      expect(sink.got.slice(20).map((e) => e.seq)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    });

    it('events not routed to a sink still advance its cursor; a new sink can start at the end', async () => {
      const tmp = await tempStore(store);
      await insertEvents(tmp.mirror, 12, (i) => ({ backfill: i < 6 }));
      const live = recordingSink('live');
      const late = recordingSink('late');
      const d = track(
        new Dispatcher({
          mirror: tmp.mirror,
          sinks: [live],
          filter: (_sink, e) => !e.backfill,
        }),
      );
      await d.drain();
      expect(live.got.map((e) => e.seq)).toEqual([7, 8, 9, 10, 11, 12]);
      expect(await getCursor(tmp.mirror, 'live')).toBe(12);

      const fresh = track(new Dispatcher({ mirror: tmp.mirror, sinks: [late], newSinkStart: 'end' }));
      await fresh.drain();
      await insertEvents(tmp.mirror, 2);
      await fresh.drain();
      expect(late.got.map((e) => e.seq)).toEqual([13, 14]);
    });
  });

  describe('with the real write path', () => {
    it('events written by applyPage reach a listener after notify(), skipped steps flagged inferred', async () => {
      const tmp = await tempStore(store);
      const emitter = createMirrorEvents();
      const got: MirrorEvent[] = [];
      emitter.on('job.discovered', (e) => {
        got.push(e);
      });
      emitter.on('job.status_changed', (e) => {
        got.push(e);
      });
      const d = track(
        new Dispatcher({ mirror: tmp.mirror, sinks: [createEmitterSink(emitter)], pollMs: 60_000 }),
      );
      d.start();
      const queued = makeJob(1, 'queued', { metadata: { batch_id: 'b-7' } });
      await tmp.mirror.jobs.applyPage([queued], { observedAt: 1_780_000_000_000 });
      d.notify();
      await waitFor(() => got.length === 1, 3000, 'discovered');
      const done = {
        ...queued,
        status: 'completed' as const,
        started_at: queued.created_at + 5,
        completed_at: queued.created_at + 9,
      };
      await tmp.mirror.jobs.applyPage([done], { observedAt: 1_780_000_060_000 });
      d.notify();
      await waitFor(() => got.length === 3, 3000, 'status changes');
      expect(got.map((e) => [e.type, e.from, e.to, e.inferred])).toEqual([
        ['job.discovered', null, 'queued', false],
        ['job.status_changed', 'queued', 'in_progress', true],
        ['job.status_changed', 'in_progress', 'completed', false],
      ]);
      expect(got[2]?.job).toMatchObject({
        id: queued.id,
        status: 'completed',
        metadata: { batch_id: 'b-7' },
      });
      expect(got[2]?.occurredAt).toBe((queued.created_at + 9) * 1000);
    });
  });
});
