/**
 * A worker whose PostgreSQL is down at start does not crash-loop: it says so in one line per attempt naming
 * MIRROR_DB (password masked), waits with backoff, and starts as soon as the server answers. A refusal that
 * waiting cannot fix (a typo'd scheme) fails at once.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startWorker, WorkerStartAborted } from '../../src/queue/worker.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import { captureLogs, dropPrefix, freePort, testConfig, waitFor } from './helpers.ts';

const redisUrl = inject('redisUrl');
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** A TCP proxy on `port` to the real server: "PostgreSQL comes up" on that port. */
function proxyTo(port: number, target: URL): Promise<Server & { sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => resolve(Object.assign(server, { sockets }))),
  );
}

it('PostgreSQL down at start: one masked line per attempt, backoff, then the worker starts', async () => {
  const port = await freePort();
  const target = new URL(db.url);
  const url = `postgres://postgres:s3cret@127.0.0.1:${port}${target.pathname}`;
  const logs = captureLogs('info');
  const config = testConfig({ redisUrl, dbPath: url });
  const starting = startWorker({
    config,
    logger: logs.logger,
    events: false,
    schedulers: false,
    mirrorRetry: { minMs: 50, maxMs: 100 },
  });
  const warnings = () => logs.lines.filter((l) => l.level === 40 && String(l.msg).includes('MIRROR_DB'));
  await waitFor('two attempts', () => warnings().length >= 2, { timeoutMs: 10_000, intervalMs: 20 });
  const proxy = await proxyTo(port, target);
  try {
    const worker = await starting;
    await worker.close();
    const lines = warnings();
    expect(lines[0]?.msg).toMatch(
      /^cannot reach PostgreSQL at MIRROR_DB=postgres:\/\/postgres:\*+@127\.0\.0\.1:\d+\//,
    );
    expect(lines[0]).toMatchObject({ attempt: 1 });
    expect(JSON.stringify(logs.lines)).not.toContain('s3cret');
  } finally {
    for (const s of proxy.sockets) s.destroy();
    await new Promise((r) => proxy.close(r));
    await dropPrefix(redisUrl, config.queuePrefix);
  }
});

it('stopping a worker that waits for PostgreSQL ends the wait (WorkerStartAborted)', async () => {
  const port = await freePort();
  const stop = new AbortController();
  const logs = captureLogs('info');
  const starting = startWorker({
    config: testConfig({ redisUrl, dbPath: `postgres://u:pw@127.0.0.1:${port}/db` }),
    logger: logs.logger,
    signal: stop.signal,
    events: false,
    mirrorRetry: { minMs: 60_000, maxMs: 60_000 },
  });
  await waitFor('the first attempt', () => logs.lines.some((l) => l.level === 40), { timeoutMs: 10_000 });
  stop.abort();
  await expect(starting).rejects.toBeInstanceOf(WorkerStartAborted);
});
