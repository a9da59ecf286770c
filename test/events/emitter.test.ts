import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createDispatcher } from '../../src/events/createDispatcher.ts';
import { createMirrorEvents } from '../../src/events/mirrorEvents.ts';
import type { MirrorEvent, RunSummary } from '../../src/events/types.ts';
import { forEachStore } from '../stores.ts';
import { appendTestEvents as insertEvents } from './helpers.ts';

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

forEachStore((store) =>
  describe('the typed emitter, fed by the dispatcher', () => {
    it('a listener that throws, sync or async, is logged and stops neither other listeners nor the dispatcher', async () => {
      const mirror = await store.open();
      await insertEvents(mirror, 20);
      const { logger, lines } = memoryLogger();
      const emitter = createMirrorEvents({ logger });
      const seen: number[] = [];
      emitter.on('job.status_changed', () => {
        throw new Error('sync listener bug');
      });
      emitter.on('job.status_changed', async () => {
        await Promise.resolve();
        throw new Error('async listener bug');
      });
      emitter.on('job.status_changed', (e) => {
        seen.push(e.seq);
      });
      const d = createDispatcher({
        mirror,
        emitter,
        logger,
        config: {
          webhooks: [],
          alertRules: [],
          eventsQueue: 'events',
          eventsQueueEnabled: false,
          queuePrefix: 'unused',
        },
      });
      await d.drain({ timeoutMs: 5000 });
      await d.stop();
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect((await mirror.cursors.get('emitter'))?.seq).toBe(20);
      const errors = lines.filter((l) => l.level === 50).map((l) => (l.err as { message: string }).message);
      expect(errors.filter((m) => m === 'sync listener bug')).toHaveLength(20);
      expect(errors.filter((m) => m === 'async listener bug')).toHaveLength(20);
      // The log sink wrote one line per live status change: type, job, from → to, endpoint.
      const logged = lines.filter((l) => l.sink === 'log');
      expect(logged).toHaveLength(20);
      expect(logged[0]).toMatchObject({ event: 'job.status_changed', endpoint: '/v1/documents/extract' });
      expect(logged[0]?.msg).toMatch(/^job\.status_changed job_\S+ \w+ → \w+ \/v1\/documents\/extract$/);
    });
  }),
);

describe('the typed emitter', () => {
  it('is typed per event; once() fires once; off() removes; sync.run_finished carries the run summary', async () => {
    const emitter = createMirrorEvents();
    const summaries: RunSummary[] = [];
    const discovered: MirrorEvent<'job.discovered'>[] = [];
    emitter.once('sync.run_finished', (s) => {
      summaries.push(s);
    });
    const onDiscovered = (e: MirrorEvent<'job.discovered'>) => {
      discovered.push(e);
    };
    emitter.on('job.discovered', onDiscovered);
    const summary: RunSummary = {
      task: 'head',
      partition: 'head',
      outcome: 'success',
      requests: 3,
      pages: 3,
      jobs: 250,
      inserted: 250,
      updated: 0,
      events: 250,
      missing: 0,
      quarantined: 0,
      durationMs: 1200,
    };
    await emitter.emit('sync.run_finished', summary);
    await emitter.emit('sync.run_finished', { ...summary, outcome: 'failed', error: 'boom' });
    expect(summaries).toEqual([summary]);
    expect(emitter.listenerCount('job.discovered')).toBe(1);
    emitter.off('job.discovered', onDiscovered);
    expect(emitter.listenerCount('job.discovered')).toBe(0);
    expect(discovered).toEqual([]);
  });
});
