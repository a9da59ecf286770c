/**
 * A reader asking for payloads the mirror lacks waits for upstream at most the answer's budget: an upstream
 * that accepts connections and never answers used to hold each `include_response=true` answer for about
 * 5 rounds × 2 attempts × the request timeout (over 100 s with the `serve` settings), on every request.
 * On each store (test/stores.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import { fillPayloads } from '../../src/server/fillPayloads.ts';
import { forEachStore } from '../stores.ts';
import { makeJob } from './helpers.ts';

let hang: Server;
const sockets = new Set<Socket>();
let port = 0;

beforeAll(async () => {
  hang = createServer((s) => {
    sockets.add(s);
    s.on('data', () => undefined); // reads the request, never answers
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
  port = (hang.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => hang.close(() => r()));
});

forEachStore((store) => {
  it('a hanging upstream costs an answer its deadline, not rounds of timeouts: partial, in time', async () => {
    const mirror = await store.open();
    const jobs = Array.from({ length: 20 }, () => makeJob({ status: 'completed', response: null }));
    await mirror.jobs.applyPage(jobs, {
      observedAt: Date.now(),
      payloads: { request: true, response: false },
    });
    const client = createRetabClient({
      apiKey: 'k',
      baseUrl: `http://127.0.0.1:${port}/v1`,
      timeoutMs: 1_000,
      maxRetries: 1,
      minRetryDelayMs: 5,
    });
    const answer = jobs.map((j) => ({ ...j, response: null }));
    const started = Date.now();
    const state = await fillPayloads(
      mirror,
      answer,
      { request: false, response: true },
      { client, writer: mirror, deadlineMs: 1_500 },
    );
    const took = Date.now() - started;
    expect(state).toBe('partial');
    expect(answer.every((j) => j.response === null)).toBe(true);
    expect(took).toBeLessThan(3_000);
  }, 30_000);
});
