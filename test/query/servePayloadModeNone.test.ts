/**
 * `PAYLOAD_MODE=none` says the mirror stores no payloads. `serve` still answers `include_request` /
 * `include_response` honestly (fetched from upstream, `X-Mirror-Payload: complete`), but keeps nothing: it
 * used to write every fetched request and response into a mirror configured to hold none.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Mirror, openMirror } from '../../src/mirror/openMirror.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { runHead } from '../../src/sync/index.ts';
import { HEAD, type World, world } from '../sync/helpers.ts';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
let w: World;

beforeAll(async () => {
  w = await world({ jobs: 200, days: 2 });
  const pass = await runHead(w.deps, { ...HEAD, payloadMode: 'none' });
  expect(pass.outcome).toBe('success');
});
afterAll(async () => {
  await w.close();
});

function stored(m: Pick<Mirror, 'sqlite'>): { req: number; res: number } {
  return m.sqlite
    .prepare('SELECT coalesce(sum(has_request), 0) AS req, coalesce(sum(has_response), 0) AS res FROM jobs')
    .get() as { req: number; res: number };
}

it('serve with PAYLOAD_MODE=none: payloads asked for are fetched and returned, and none is stored', async () => {
  const path = join(w.dir, 'mirror.db');
  expect(stored(w.mirror)).toEqual({ req: 0, res: 0 });
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
    cwd: w.dir,
    env: {
      ...process.env,
      MIRROR_DB: path,
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
  const reader = openMirror(path, { readonly: true });
  expect(stored(reader)).toEqual({ req: 0, res: 0 });
  reader.close();
}, 60_000);
