/**
 * One event, one shape: the JSON a consumer gets is the same `MirrorEvent` on every path — the library's
 * `on()`, the dispatcher's emitter, the BullMQ events queue's job data, a webhook's body, the `stdout` sink,
 * the SSE stream of `serve` and `events tail --json` — on each store (test/stores.ts).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AlertRuleSchema } from '../../src/config.ts';
import { createDispatcher } from '../../src/events/createDispatcher.ts';
import type { MirrorEvent } from '../../src/events/types.ts';
import { openStore } from '../../src/mirror/index.ts';
import { openRetabMirror } from '../../src/retabMirror.ts';
import { LOCAL_CONFIG, listen } from '../query/helpers.ts';
import { forEachStore } from '../stores.ts';
import { appendTestEvents as insertEvents, type Receiver, startReceiver, waitFor } from './helpers.ts';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
const connection = { url: inject('redisUrl') };
const N = 4;

/** A JSON round trip: what a consumer in another process parses. */
const wire = (x: unknown) => JSON.parse(JSON.stringify(x));

forEachStore((store) => {
  const prefix = `test-${randomUUID()}`;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    const q = new Queue('events', { connection, prefix });
    await q.obliterate({ force: true });
    await q.close();
    await receiver.close();
  });

  describe('one wire shape on every path', () => {
    it('the library, emitter, queue, webhook, stdout, SSE and `events tail --json` carry deep-equal JSON', async () => {
      const location = await store.location();
      const mirror = await store.reopen(location);
      await insertEvents(mirror, N, (i) => ({
        type: i === 0 ? 'job.discovered' : 'job.status_changed',
        inferred: i === 2,
        backfill: i === 3,
        job: { metadata: { batch_id: 'b1', note: 'line\nbreak "quoted"' } },
      }));
      // The library: listeners attached right after creation get every event already in the outbox.
      const lib = await openRetabMirror({
        config: { apiKey: 'sk-unused', baseUrl: 'http://127.0.0.1:9/v1', dbPath: location },
      });
      const viaLibrary: MirrorEvent[] = [];
      lib.on('job.discovered', (e) => void viaLibrary.push(e));
      lib.on('job.status_changed', (e) => void viaLibrary.push(e));
      await waitFor(() => viaLibrary.length === N, 10_000, 'library events');
      await lib.close();

      await mirror.cursors.replayFrom('emitter', 1); // the library's emitter shares the cursor name
      const lines: string[] = [];
      const stdout = new Writable({
        write(chunk, _enc, cb) {
          lines.push(...String(chunk).split('\n').filter(Boolean));
          cb();
        },
      });
      const d = createDispatcher({
        mirror,
        config: {
          webhooks: [{ name: 'hook', url: receiver.url, secret: 'raw-secret' }],
          webhookSecret: undefined,
          alertRules: [
            AlertRuleSchema.parse({
              name: 'all',
              when: { includeBackfill: true },
              sinks: ['hook', 'stdout'],
            }),
          ],
          eventsQueue: 'events',
          eventsQueueEnabled: true,
          queuePrefix: prefix,
        },
        redis: { connection },
        stdout,
        log: false,
      });
      const viaEmitter: MirrorEvent[] = [];
      d.emitter.on('job.discovered', (e) => void viaEmitter.push(e));
      d.emitter.on('job.status_changed', (e) => void viaEmitter.push(e));
      await d.drain({ timeoutMs: 20_000 });
      await d.stop();

      const viaQueue: MirrorEvent[] = [];
      const worker = new Worker<MirrorEvent>(
        'events',
        async (job) => {
          viaQueue.push(job.data);
        },
        { connection, prefix, concurrency: 1 },
      );
      await waitFor(() => viaQueue.length === N, 20_000, 'queued events');
      await worker.close();

      const reader = await openStore(location, { readonly: true });
      const server = await listen({ mirror: reader, config: LOCAL_CONFIG, events: { pollMs: 20 } });
      const viaSse = await readSse(`${server.base}/v1/mirror/events?since=0`, N);
      await server.app.close();
      await reader.close();

      const tail = spawnSync(process.execPath, [bin, 'events', 'tail', '--json', '-n', String(N)], {
        encoding: 'utf8',
        env: { ...process.env, MIRROR_DB: location, LOG_LEVEL: 'silent', WEBHOOKS: '', ALERT_RULES: '' },
        timeout: 30_000,
      });
      expect(tail.status).toBe(0);

      const reference = wire(viaLibrary);
      expect(reference).toHaveLength(N);
      expect(Object.keys(reference[0]).sort()).toEqual(
        [
          'seq',
          'eventId',
          'type',
          'jobId',
          'from',
          'to',
          'occurredAt',
          'observedAt',
          'inferred',
          'backfill',
          'job',
        ].sort(),
      );
      expect(reference[0].job).toMatchObject({ object: 'job', metadata: { note: 'line\nbreak "quoted"' } });
      expect(wire(viaEmitter)).toEqual(reference);
      expect(wire(viaQueue)).toEqual(reference);
      expect(receiver.received.map((r) => JSON.parse(r.body))).toEqual(reference);
      expect(lines.map((l) => JSON.parse(l))).toEqual(reference);
      expect(viaSse.map((s) => JSON.parse(s))).toEqual(reference);
      expect(
        tail.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ).toEqual(reference);
    });
  });
});

/** The `data:` of the first `n` SSE events of `url`. */
async function readSse(url: string, n: number): Promise<string[]> {
  const res = await fetch(url);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const out: string[] = [];
  let buf = '';
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
      const data = buf
        .slice(0, end)
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6));
      buf = buf.slice(end + 2);
      if (data.length > 0) out.push(data.join('\n'));
    }
  }
  await reader.cancel();
  return out;
}
