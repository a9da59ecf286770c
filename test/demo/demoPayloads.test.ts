/**
 * The demo's local API keeps the honest-payloads promise: the demo mirrors with PAYLOAD_MODE=request (no
 * responses), yet `include_response=true` returns the responses, fetched from the demo's own simulator, as the
 * README's "Payloads asked for are never silently missing" says for a local API with a key configured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { runDemo } from '../../src/demo/runDemo.ts';
import { silentLogger } from '../../src/log.ts';
import type { Job } from '../../src/retab/schemas.ts';

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 1));
    });
  });
}

it('include_response=true on the demo local API returns responses, with X-Mirror-Payload: complete', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-payloads-'));
  const config = loadConfig({
    env: { REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, SERVER_PORT: '0' },
    dotenvFile: false,
  });
  const stop = new AbortController();
  let text = '';
  let gotBase: (base: string) => void = () => undefined;
  const based = new Promise<string>((resolve) => (gotBase = resolve));
  const out = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      const m = /local API (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m) gotBase(m[1] as string);
      done();
    },
  });
  const demo = runDemo({
    config,
    logger: silentLogger,
    jobs: 300,
    days: 2,
    dbPath: join(dir, 'demo.db'),
    out,
    signal: stop.signal,
  });
  try {
    const base = await based;
    const res = await fetch(`${base}/v1/jobs?status=completed&limit=5&include_response=true`);
    expect(res.status).toBe(200);
    const data = ((await res.json()) as { data: Job[] }).data;
    expect(data.length).toBeGreaterThan(0);
    expect(data.filter((j) => j.response === null).map((j) => j.id)).toEqual([]);
    expect(res.headers.get('x-mirror-payload')).toBe('complete');
  } finally {
    stop.abort();
    await demo;
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
