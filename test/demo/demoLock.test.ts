/**
 * One demo per database file: a second one is refused in one line; a lock left by a killed demo is not. One
 * demo per queue prefix: a second one (another --db) is refused in one line and exits.
 */

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { expect, inject, it } from 'vitest';
import { lockDemo, removePrefixKeys } from '../../src/demo/demoLock.ts';
import { SYNC_QUEUE } from '../../src/queue/jobData.ts';

const dbPath = () => join(mkdtempSync(join(tmpdir(), 'demo-lock-')), 'demo.db');

it('refuses while another live process holds the file, naming its pid and --db', async () => {
  const db = dbPath();
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    writeFileSync(`${db}.lock`, String(other.pid));
    expect(() => lockDemo(db)).toThrow(
      new RegExp(`a demo is already running on .*demo\\.db \\(pid ${other.pid}\\).*--db`),
    );
  } finally {
    other.kill('SIGKILL');
  }
});

it('takes over a lock whose process is gone, and releases it', async () => {
  const db = dbPath();
  const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => gone.on('exit', r));
  writeFileSync(`${db}.lock`, String(gone.pid));
  const release = lockDemo(db);
  expect(existsSync(`${db}.lock`)).toBe(true);
  release();
  expect(existsSync(`${db}.lock`)).toBe(false);
});

it('a second demo on the same queue prefix is refused in one line before it starts, and exits', async () => {
  const prefix = `test-demo-prefix-${randomUUID().slice(0, 8)}`;
  const redisUrl = inject('redisUrl');
  // The first demo's worker, as the demo names its queue: `<QUEUE_PREFIX>-demo`.
  const first = new Worker(SYNC_QUEUE, async () => undefined, {
    connection: { url: redisUrl },
    prefix: `${prefix}-demo`,
  });
  try {
    await first.waitUntilReady();
    const db = dbPath();
    const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, 'demo', '--db', db, '--jobs', '50', '--days', '2'], {
      env: { ...process.env, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, SERVER_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    clearTimeout(timer);
    expect(code, `${out}\n${err}`).toBe(1); // not killed by the timeout: it exited by itself
    expect(err).toMatch(/another demo's worker runs under the queue prefix .*-demo/);
    expect(out).not.toContain('Backfilled'); // refused before simulating or writing anything
    expect(existsSync(db)).toBe(false);
  } finally {
    await first.close();
    await removePrefixKeys(redisUrl, `${prefix}-demo`);
  }
}, 90_000);

it('Ctrl-C during the backfill: the summary, exit 0, no false "No Redis" line, no Redis keys left', async () => {
  const prefix = `test-demo-early-${randomUUID().slice(0, 8)}`;
  const redisUrl = inject('redisUrl');
  const db = dbPath();
  const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, 'demo', '--db', db, '--jobs', '30000', '--days', '60'], {
    env: { ...process.env, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, SERVER_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let signalled = false;
  child.stdout.on('data', (d) => {
    out += d;
    if (!signalled && /backfill: \d+\/\d+ days/.test(out)) {
      signalled = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(timer);
  expect(signalled).toBe(true);
  expect(out, err).toMatch(/Done: mirror \d+ jobs/);
  expect(code, `${out}\n${err}`).toBe(0);
  expect(err).not.toMatch(/the mirror holds/);
  expect(out).not.toContain('No Redis at');
  const redis = new Redis(redisUrl);
  try {
    expect(await redis.keys(`${prefix}-demo:*`)).toEqual([]);
  } finally {
    redis.disconnect();
  }
}, 150_000);
