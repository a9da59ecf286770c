import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { finalCounts, runDemoCli } from './runDemoCli.ts';

const prefix = `test-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  const redis = new Redis(inject('redisUrl'));
  const keys = await redis.keys(`${prefix}-demo:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('demo with Redis', () => {
  it('runs the BullMQ worker for 20 s, exits 0 and leaves a mirror equal in size to the simulator', async () => {
    const run = await runDemoCli({ REDIS_URL: inject('redisUrl'), QUEUE_PREFIX: prefix }, [
      '--duration',
      '20',
      '--jobs',
      '1500',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const counts = finalCounts(run.stdout);
    expect(counts, run.stdout).not.toBeNull();
    expect(counts!.mode).toBe('bullmq');
    expect(counts!.simulator).toBeGreaterThan(1500); // jobs kept arriving while it ran
    expect(counts!.mirror).toBe(counts!.simulator);
    expect(run.mirrorRows).toBe(counts!.simulator);
    expect(run.stdout).toContain('/v1/jobs?status=failed');
    expect(run.stdout).toMatch(/jobs list --metadata batch_id=\S+/);
    expect(run.stdout).toContain('stats --by endpoint');
    expect(run.stdout).toMatch(/^Console: http:\/\/127\.0\.0\.1:\d+\/ /m);
  }, 90_000);
});
