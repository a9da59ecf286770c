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
import { CURRENT_ENDPOINTS, type Job } from '../../src/retab/schemas.ts';

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 1));
    });
  });
}

it('the demo local API: include_response=true returns responses (X-Mirror-Payload: complete); jobs carry current endpoint names', async () => {
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
    // Retab's clients since May 2026 (retab-dev/retab ba980992, Python `Job.endpoint: SupportedEndpoint`)
    // refuse a job whose endpoint is not a current name: the demo's jobs carry current names, so a new user's
    // SDK pointed at the demo's local API reads every page.
    const page = (await (await fetch(`${base}/v1/jobs?limit=100`)).json()) as { data: Job[] };
    expect(page.data.length).toBe(100);
    const current: readonly string[] = CURRENT_ENDPOINTS;
    expect(page.data.map((j) => j.endpoint).filter((e) => !current.includes(e))).toEqual([]);
  } finally {
    stop.abort();
    await demo;
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
