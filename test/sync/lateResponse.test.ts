/**
 * An older observation never overwrites a newer one, even when its response is read late: a task whose
 * request was answered before job X was cancelled upstream, but whose page is applied after another task
 * committed X = cancelled, must neither roll X back nor emit a false `cancelled → queued` event. Checked
 * with a `fetch` wrapper that reads the body and then holds it, for two tasks racing in one process and for
 * two processes writing one mirror, on each store (test/stores.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import { runActive, runHead } from '../../src/sync/index.ts';
import { forEachStore } from '../stores.ts';
import { HEAD, type StoreWorld, storeWorld } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let w: StoreWorld | undefined;
let dir: string | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const statusOf = async (w: StoreWorld, id: string) => (await w.mirror.jobs.get(id))?.status;

/** A fetch that, for URLs matching `hold`, reads the whole body, calls `onHeld`, then waits for `release`. */
function holdingFetch(hold: (url: string) => boolean) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let held!: () => void;
  const heldOnce = new Promise<void>((r) => (held = r));
  const f: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (!hold(String(input))) return res;
    const body = await res.text();
    held();
    await released;
    return new Response(body, { status: res.status, headers: res.headers });
  };
  return { fetch: f, held: heldOnce, release };
}

async function statusEvents(w: StoreWorld, id: string) {
  return (await w.mirror.outbox.after(0, 1_000_000))
    .filter((e) => e.jobId === id && e.type === 'job.status_changed')
    .map((e) => ({ from: e.from, to: e.to }));
}

/** A queued job among the newest (so the head run re-reads it on its first page). */
function newestQueued(w: StoreWorld): string {
  const all = w.sim.store.all();
  const x = all
    .slice(-50)
    .reverse()
    .find((j) => j.status === 'queued');
  if (!x) throw new Error('the simulator has no queued job among its newest 50');
  return x.id;
}

forEachStore((store) => {
  describe('a late response never rolls a job back', () => {
    it('two tasks racing in one process: active:queued read before the cancel, applied after head committed it', async () => {
      w = await storeWorld(store, { jobs: 400, days: 1 });
      const { sim } = w;
      await runHead(w.deps, HEAD);
      const x = newestQueued(w);
      expect(await statusOf(w, x)).toBe('queued');

      const h = holdingFetch((url) => url.includes('status=queued'));
      const held = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url, fetch: h.fetch });
      const active = runActive({ ...w.deps, client: held }, { statuses: ['queued'], pageSize: 100 });
      await h.held; // upstream answered "X is queued"; the body sits in the process, not yet applied

      sim.clock.advance(1000);
      sim.store.cancel(x);
      await runHead(w.deps, HEAD);
      expect(await statusOf(w, x)).toBe('cancelled');

      h.release();
      expect((await active).outcome).toBe('success');
      expect(await statusOf(w, x)).toBe('cancelled');
      expect(await statusEvents(w, x)).toEqual([{ from: 'queued', to: 'cancelled' }]);
    });

    it('two processes on one mirror: a child holds its page while the parent commits the cancel', async () => {
      // Both processes date observations by the machine's clock, as two real processes do.
      w = await storeWorld(store, { jobs: 400, days: 1, now: Date.now() }, { now: Date.now });
      const { sim } = w;
      await runHead(w.deps, HEAD);
      const x = newestQueued(w);

      dir = mkdtempSync(join(tmpdir(), 'late-response-'));
      const script = join(dir, 'child.mts');
      writeFileSync(script, CHILD(ROOT));
      const child = spawn(process.execPath, ['--import', 'tsx', script, sim.url, w.location], {
        cwd: ROOT,
        env: { ...process.env, SIM_KEY: sim.apiKey },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const first = await lines.next();
      expect({ line: first.value, stderr }).toEqual({ line: 'held', stderr: '' });

      await new Promise((r) => setTimeout(r, 5)); // the parent's request leaves strictly later
      sim.store.cancel(x);
      await runHead(w.deps, HEAD);
      expect(await statusOf(w, x)).toBe('cancelled');

      child.stdin.write('go\n');
      const done = await lines.next();
      expect(stderr).toBe('');
      expect(done.value).toBe('success');
      expect(await statusOf(w, x)).toBe('cancelled');
      expect(await statusEvents(w, x)).toEqual([{ from: 'queued', to: 'cancelled' }]);
    });
  });
});

const CHILD = (root: string) => `
import { createInterface } from 'node:readline';
import { silentLogger } from ${JSON.stringify(join(root, 'src/log.ts'))};
import { openStore } from ${JSON.stringify(join(root, 'src/mirror/index.ts'))};
import { createRetabClient } from ${JSON.stringify(join(root, 'src/retab/client.ts'))};
import { runActive } from ${JSON.stringify(join(root, 'src/sync/index.ts'))};
const [url, db] = process.argv.slice(2);
const go = new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
const held = async (input, init) => {
  const res = await fetch(input, init);
  if (!String(input).includes('status=queued')) return res;
  const body = await res.text();
  console.log('held');
  await go;
  return new Response(body, { status: res.status, headers: res.headers });
};
const mirror = await openStore(db);
const client = createRetabClient({ apiKey: process.env.SIM_KEY, baseUrl: url, fetch: held });
const r = await runActive({ client, mirror, logger: silentLogger }, { statuses: ['queued'], pageSize: 100 });
await mirror.close();
console.log(r.outcome);
`;
