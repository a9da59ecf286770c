/**
 * Lanes share what they read: each outbox batch is read and parsed once for all the sinks at its cursor,
 * while every sink keeps its own cursor, batches and failures. On every store (test/stores.ts).
 */
import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/events/dispatcher.ts';
import { createMirrorEvents } from '../../src/events/mirrorEvents.ts';
import { createEmitterSink } from '../../src/events/sinks/emitterSink.ts';
import type { EventSink, MirrorEvent } from '../../src/events/types.ts';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { forEachStore } from '../stores.ts';
import { appendTestEvents as insertEvents, storeOutboxIds as outboxIds } from './helpers.ts';

const getCursor = async (m: MirrorStore, sink: string) => (await m.cursors.get(sink))?.seq;

/** Takes whole batches (the lane then acknowledges the batch), or throws while `down()`. */
function sink(name: string, down = () => false): EventSink & { got: MirrorEvent[] } {
  const got: MirrorEvent[] = [];
  const deliver = async (events: MirrorEvent[]) => {
    if (down()) throw new Error(`${name} is down`);
    got.push(...events);
  };
  return { name, kind: 'feed', got, deliver };
}

forEachStore((store) =>
  describe('shared outbox batches', () => {
    it('three sinks in step: one read per batch for all of them (13 reads for 12 batches, not 39)', async () => {
      const mirror = await store.open();
      await insertEvents(mirror, 1200);
      const sinks = [sink('a'), sink('b'), sink('c')];
      const d = new Dispatcher({ mirror, sinks, batchSize: 100 });
      await d.drain({ timeoutMs: 10_000 });
      await d.stop();
      // 12 full batches and the empty read at the end, once each. On PostgreSQL the lanes' reads and cursor
      // writes wait on the pool, so one lane can run more batches ahead than the cache keeps (2 per sink) and
      // re-read an evicted one: shared, but not exactly once (3 lanes reading alone would make 39).
      if (store.kind === 'sqlite') expect(d.outboxReads).toBe(13);
      else expect(d.outboxReads).toBeLessThan(39);
      const outbox = await outboxIds(mirror);
      for (const s of sinks) {
        expect(s.got.map((e) => e.eventId)).toEqual(outbox);
        expect(await getCursor(mirror, s.name)).toBe(1200);
      }
      // The same objects, frozen: one sink cannot change what another receives.
      expect(sinks[1]?.got[7]).toBe(sinks[0]?.got[7]);
      expect(Object.isFrozen(sinks[0]?.got[7])).toBe(true);
      expect(Object.isFrozen(sinks[0]?.got[7]?.job)).toBe(true);
    });

    it('a sink that falls behind and recovers still gets every event once, in order, after its own cursor', async () => {
      const mirror = await store.open();
      await insertEvents(mirror, 250);
      let down = true;
      const flaky = sink('flaky', () => down);
      const healthy = sink('healthy');
      const d = new Dispatcher({
        mirror,
        sinks: [flaky, healthy],
        batchSize: 50,
        retryMinMs: 20,
        retryMaxMs: 40,
      });
      const drained = d.drain({ timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 100));
      await insertEvents(mirror, 30); // the end moved while the healthy sink had read it
      d.notify();
      down = false;
      await drained;
      await d.drain({ timeoutMs: 10_000 });
      await d.stop();
      const outbox = await outboxIds(mirror);
      expect(healthy.got.map((e) => e.eventId)).toEqual(outbox);
      expect(flaky.got.map((e) => e.eventId)).toEqual(outbox);
      expect(await getCursor(mirror, 'flaky')).toBe(280);
    });

    it('a library listener may change the event it got; the other sinks still get the outbox as written', async () => {
      const mirror = await store.open();
      await insertEvents(mirror, 5);
      const emitter = createMirrorEvents();
      const changed: MirrorEvent[] = [];
      emitter.on('job.status_changed', (e) => {
        e.to = 'cancelled';
        e.job.metadata = { touched: 'yes' };
        changed.push(e);
      });
      const other = sink('other');
      const d = new Dispatcher({ mirror, sinks: [createEmitterSink(emitter), other] });
      await d.drain({ timeoutMs: 10_000 });
      await d.stop();
      expect(changed.map((e) => [e.to, e.job.metadata])).toEqual(
        Array(5).fill(['cancelled', { touched: 'yes' }]),
      );
      expect(other.got).toHaveLength(5);
      expect(other.got.every((e) => e.to !== 'cancelled' && e.job.metadata === null)).toBe(true);
    });
  }),
);
