/**
 * Makes sure a real Redis is reachable for the tests that need one: the one at REDIS_URL (default
 * 127.0.0.1:6379) when it answers, else a private `redis-server` on a free port, stopped at teardown.
 * Tests read the URL with `inject('redisUrl')` and use their own key prefix.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';
import { pingRedis as ping } from '../src/queue/redis.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

let child: ChildProcess | undefined;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!(await ping(url))) {
    const port = await freePort();
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    url = `redis://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    while (!(await ping(url))) {
      if (Date.now() > deadline)
        throw new Error(
          `Could not start redis-server for the tests on port ${port}: is redis-server installed?`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  project.provide('redisUrl', url);
}

export async function teardown(): Promise<void> {
  child?.kill('SIGTERM');
}
