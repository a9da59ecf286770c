/**
 * A wrong Redis password is an authentication failure, not an unreachable server: the worker's log line and
 * `status` say so and name REDIS_URL, without printing the password.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedis, RedisHealth } from '../../src/queue/redis.ts';
import { collectStatus } from '../../src/queue/status.ts';
import { freePort } from '../reliability/helpers.ts';
import { captureLogger } from '../retab/logCapture.ts';
import { tempDir } from './helpers.ts';

let port: number;
let proc: ReturnType<typeof spawn>;

beforeAll(async () => {
  port = await freePort();
  proc = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--requirepass',
      'right-one',
    ],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 300));
});
afterAll(() => {
  proc.kill('SIGKILL');
});

const WRONG = 'wrong-pass-6620';

it('the worker says authentication failed and names REDIS_URL (never the password)', async () => {
  const url = `redis://:${WRONG}@127.0.0.1:${port}`;
  const { logger, records } = captureLogger();
  const redis = createRedis(url, { health: new RedisHealth(url, logger), maxAttempts: 1, minDelayMs: 10 });
  await new Promise<void>((resolve) => redis.once('end', () => resolve()));
  const warn = records().find((r) => r.level === 40);
  expect(String(warn?.msg)).toMatch(/authentication failed/);
  expect(String(warn?.msg)).toContain('REDIS_URL');
  expect(String(warn?.msg)).not.toMatch(/cannot reach/);
  expect(JSON.stringify(records())).not.toContain(WRONG);
});

it('status reports the refused credentials, naming REDIS_URL', async () => {
  const tmp = tempDir();
  try {
    const report = await collectStatus({
      config: {
        dbPath: tmp.dbPath,
        redisUrl: `redis://:${WRONG}@127.0.0.1:${port}`,
        queuePrefix: 'auth-test',
      },
    });
    expect(report.redis.reachable).toBe(false);
    expect(report.redis.error).toMatch(/authentication failed.*REDIS_URL/);
    expect(JSON.stringify(report)).not.toContain(WRONG);
  } finally {
    tmp.cleanup();
  }
});
