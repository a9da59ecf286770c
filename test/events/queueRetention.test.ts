/** The events queue with nobody consuming it: Redis stays bounded, and the drop is said in one log line. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createQueueSink } from '../../src/events/sinks/queueSink.ts';
import type { MirrorEvent } from '../../src/events/types.ts';
import { captureLogs, dropPrefix } from '../queue/helpers.ts';
import { makeJob } from './helpers.ts';

const redisUrl = inject('redisUrl');
const prefix = `test-retention-${randomUUID().slice(0, 8)}`;
let connection: Redis;

beforeAll(() => {
  connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  connection.disconnect();
  await dropPrefix(redisUrl, prefix);
});

function event(seq: number): MirrorEvent {
  const job = makeJob(seq, 'failed');
  return {
    seq,
    eventId: `evt_${seq}`,
    type: 'job.status_changed',
    jobId: job.id,
    from: 'in_progress',
    to: 'failed',
    occurredAt: 1_780_000_000_000 + seq,
    observedAt: 1_780_000_000_000 + seq,
    inferred: false,
    backfill: false,
    job,
  };
}

it('keeps at most maxWaiting unconsumed events, drops the oldest, and warns once naming the replay', async () => {
  const logs = captureLogs('info');
  const sink = createQueueSink({ connection, prefix, maxWaiting: 5, logger: logs.logger });
  try {
    for (let batch = 0; batch < 3; batch++) {
      await sink.deliver(
        [1, 2, 3, 4].map((i) => event(batch * 4 + i)),
        { signal: new AbortController().signal, ack: () => {}, generation: 0 },
      );
    }
    expect(await sink.queue.getWaitingCount()).toBe(5);
    const kept = await sink.queue.getWaiting(0, -1);
    expect(kept.map((j) => (j.data as MirrorEvent).seq).sort((a, b) => a - b)).toEqual([8, 9, 10, 11, 12]);
    const warnings = logs.lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1); // at most once a minute, not once per batch
    expect(String(warnings[0]?.msg)).toMatch(/dropped the 3 oldest .*events replay --sink queue/);
  } finally {
    await sink.queue.close();
  }
});
