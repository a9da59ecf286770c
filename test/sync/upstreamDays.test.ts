/**
 * Days counted back from "now" are counted on upstream's clock, and upstream's clock is trusted only within
 * a bound. The simulator's clock (its `Date` header and its jobs' `created_at`) is set 10 days behind the
 * machine's while the sync runs on the machine's clock: `sync --backfill-days N` and reconcile must sweep
 * upstream's last N days, not the machine's. A `Date` header from 1970 (a broken proxy) must neither make
 * head backfill all history nor keep a finished day's window open. On each store (test/stores.ts).
 */
import { spawn } from 'node:child_process';
import type { Job as BullJob } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { createProcessor } from '../../src/queue/processor.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { runHead, runWindow } from '../../src/sync/index.ts';
import { reconcileDays } from '../../src/sync/partitions.ts';
import { syncOnce } from '../../src/sync/syncOnce.ts';
import { sqlCount } from '../storeSql.ts';
import { forEachStore } from '../stores.ts';
import { HEAD, type StoreWorld, storeWorld } from './helpers.ts';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
const DAY = 86_400_000;

let w: StoreWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

function runSync(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, 'sync', ...args], {
      env: { ...process.env, MAX_RETRIES: '1', LOG_LEVEL: 'warn', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The days of the windows swept so far, in order. */
const sweptDays = async (w: StoreWorld) =>
  (await w.mirror.syncState.list('window:')).map((s) => s.partition.slice('window:'.length));

forEachStore((store) => {
  describe("days counted on upstream's clock", () => {
    it('sync --backfill-days 12 with upstream 10 days behind the machine mirrors upstream’s last 12 days', async () => {
      w = await storeWorld(
        store,
        { jobs: 1500, days: 25, now: Date.now() - 10 * DAY, rates: { arrivalsPerMinute: 0 } },
        { now: Date.now },
      );
      const db = w.location;
      const r = await runSync(['--backfill-days', '12', '--json', '--no-events', '--no-progress'], {
        RETAB_BASE_URL: w.sim.url,
        RETAB_API_KEY: w.sim.apiKey,
        MIRROR_DB: db,
      });
      expect(r.code, r.stderr).toBe(0);
      const [first] = reconcileDays(w.sim.clock.now(), 12); // the same day list: days touching [now − 12 d, now]
      const floorS = Date.parse(`${first}T00:00:00Z`) / 1000;
      const expected = w.sim.store.all().filter((j) => j.created_at >= floorS).length;
      const mirrored = await sqlCount(w.mirror, 'SELECT count(*) FROM jobs WHERE created_at >= ?', [floorS]);
      expect(expected).toBeGreaterThan(500);
      expect(mirrored).toBe(expected);
    });

    it('a wrong API key: the clock probe’s 401 ends sync --backfill-days at once, in one line, exit 1', async () => {
      w = await storeWorld(store, { jobs: 50, days: 2 });
      const r = await runSync(['--backfill-days', '1', '--no-events', '--no-progress'], {
        RETAB_BASE_URL: w.sim.url,
        RETAB_API_KEY: 'sk_wrong',
        MIRROR_DB: w.location,
      });
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toEqual([
        expect.stringMatching(/^retab-mirror: sync failed: 401 Unauthorized: .*check RETAB_API_KEY/),
      ]);
      // Nothing after the probe: no window was tried.
      expect(w.sim.stats.requests.filter((q) => q.path.endsWith('/jobs'))).toHaveLength(1);
    });

    it('reconcile with upstream 10 days behind re-sweeps upstream’s last 7 days', async () => {
      w = await storeWorld(
        store,
        { jobs: 300, days: 20, now: Date.now() - 10 * DAY, rates: { arrivalsPerMinute: 0 } },
        { now: Date.now },
      );
      const pass = await syncOnce(w.deps, {
        pageSize: 100,
        payloadMode: 'request',
        overlapSeconds: 300,
        backfillDays: 0,
        activeStatuses: ['queued'],
        reconcile: true,
      });
      expect(pass.outcome).toBe('success');
      expect(await sweptDays(w)).toEqual(reconcileDays(w.sim.clock.now()));
    });

    it('the worker’s reconcile job with upstream 10 days behind re-sweeps upstream’s last 7 days', async () => {
      w = await storeWorld(
        store,
        { jobs: 300, days: 20, now: Date.now() - 10 * DAY, rates: { arrivalsPerMinute: 0 } },
        { now: Date.now },
      );
      const processor = createProcessor({
        config: {
          pageSize: 100,
          payloadMode: 'request',
          headOverlapSeconds: 300,
          backfillDays: 0,
          sources: ['api', 'project', 'workflow'],
          activeStatuses: ['queued'],
          dbPath: w.location,
        },
        sync: w.deps,
        shutdown: new AbortController().signal,
      });
      // The processor reads a job's id, name and data only (BullMQ's Job is not needed to run reconcile).
      const job = { id: 'reconcile-1', name: 'reconcile', data: { task: 'reconcile' } } as unknown as BullJob;
      const result = await processor(job);
      expect(result.outcome).toBe('success');
      expect(await sweptDays(w)).toEqual(reconcileDays(w.sim.clock.now()));
    });
  });

  describe('a broken Date header is not trusted', () => {
    /** A proxy whose clock says 1970: every answer's `Date` header is the epoch. */
    const epochDate: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const headers = new Headers(res.headers);
      headers.set('date', new Date(0).toUTCString());
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    };

    async function epochWorld() {
      const real = Date.now();
      const s = await storeWorld(store, { jobs: 400, days: 10, now: real, rates: { arrivalsPerMinute: 0 } });
      const client = createRetabClient({ apiKey: s.sim.apiKey, baseUrl: s.sim.url, fetch: epochDate });
      s.deps = { ...s.deps, client };
      return s;
    }

    it('head with BACKFILL_DAYS=1 backfills one day, not all history back to 1970', async () => {
      w = await epochWorld();
      expect((await runHead(w.deps, { ...HEAD, backfillDays: 1 })).outcome).toBe('success');
      const oldest = await sqlCount(w.mirror, 'SELECT min(created_at) FROM jobs');
      expect(oldest * 1000).toBeGreaterThanOrEqual(w.sim.clock.now() - DAY - HEAD.overlapSeconds * 1000);
    });

    it("yesterday's window is done, not kept open because the header says 1970", async () => {
      w = await epochWorld();
      const yesterday = new Date(w.sim.clock.now() - DAY).toISOString().slice(0, 10);
      const r = await runWindow(w.deps, { day: yesterday, pageSize: 100, payloadMode: 'request' });
      expect(r.outcome).toBe('success');
      expect((await w.mirror.syncState.get(`window:${yesterday}`))?.status).toBe('done');
    });
  });
});
