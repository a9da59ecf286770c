/**
 * `PAYLOAD_MODE=none` says the mirror stores no payloads. `serve` still answers `include_request` /
 * `include_response` honestly (fetched from upstream, `X-Mirror-Payload: complete`), but keeps nothing: it
 * used to write every fetched request and response into a mirror configured to hold none. On each store
 * (test/stores.ts): the `serve` child gets the PostgreSQL URL as MIRROR_DB.
 */
import { spawn } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import type { MirrorStore } from '../../src/mirror/index.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { runHead } from '../../src/sync/index.ts';
import { sqlRows } from '../storeSql.ts';
import { forEachStore } from '../stores.ts';
import { HEAD, type StoreWorld, storeWorld } from '../sync/helpers.ts';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
let w: StoreWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** Jobs stored with a request, with a response (both stores: a flag is 0/1 or a boolean). */
async function stored(m: MirrorStore): Promise<{ req: number; res: number }> {
  const [row] = await sqlRows<{ req: unknown; res: unknown }>(
    m,
    'SELECT count(*) FILTER (WHERE has_request) AS req, count(*) FILTER (WHERE has_response) AS res FROM jobs',
  );
  return { req: Number(row?.req), res: Number(row?.res) };
}

forEachStore((store) => {
  it('serve with PAYLOAD_MODE=none: payloads asked for are fetched and returned, and none is stored', async () => {
    w = await storeWorld(store, { jobs: 200, days: 2 });
    const pass = await runHead(w.deps, { ...HEAD, payloadMode: 'none' });
    expect(pass.outcome).toBe('success');
    expect(await stored(w.mirror)).toEqual({ req: 0, res: 0 });
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
      env: {
        ...process.env,
        MIRROR_DB: w.location,
        PAYLOAD_MODE: 'none',
        RETAB_API_KEY: w.sim.apiKey,
        RETAB_BASE_URL: w.sim.url,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const base = await new Promise<string>((resolve, reject) => {
        const onData = (d: Buffer) => {
          out += String(d);
          const m = /serving the mirror on (http:\/\/[^/\s"]+)/.exec(out);
          if (m) resolve(m[1] as string);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const res = await fetch(
        `${base}/v1/jobs?status=completed&limit=5&include_request=true&include_response=true`,
      );
      expect(res.headers.get('x-mirror-payload')).toBe('complete');
      const data = ((await res.json()) as { data: Job[] }).data;
      expect(data.length).toBeGreaterThan(0);
      expect(data.every((j) => j.request !== null && j.response !== null)).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
    expect(await stored(w.mirror)).toEqual({ req: 0, res: 0 });
  }, 60_000);
});
