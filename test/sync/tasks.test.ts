/**
 * Task behaviour a user relies on, against the simulator over HTTP and a real mirror on each store
 * (test/stores.ts, read through the seam): retried jobs are
 * caught by the active sweep, malformed items are quarantined without costing the page, windows resume from
 * their checkpoint without fetching a page twice, and an interrupted head backfill completes on the next run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { utcDay } from '../../src/retab/jobFields.ts';
import { runActive, runHead, runHydrate, runWindow, syncOnce } from '../../src/sync/index.ts';
import { sqlCount, sqlRows } from '../storeSql.ts';
import { forEachStore } from '../stores.ts';
import { ACTIVE, HEAD, type StoreWorld, storeWorld } from './helpers.ts';

let w: StoreWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const active = { ...ACTIVE, statuses: [...ACTIVE.statuses] };
const jobCount = (w: StoreWorld) => w.mirror.jobs.count();
const statusOf = async (m: MirrorStore, id: string) => (await m.jobs.get(id))?.status;
const withPayloads = { include_request: true, include_response: true };

forEachStore((store) => {
  describe('active sweep', () => {
    it('catches a failed job retried upstream: queued again, with one failed → queued event', async () => {
      w = await storeWorld(store, { jobs: 800, days: 3 });
      const { sim, deps, mirror } = w;
      await runHead(deps, HEAD);
      await runActive(deps, active);
      const failed = sim.store.all().find((j) => j.status === 'failed');
      if (!failed) throw new Error('the simulator generated no failed job');
      expect(await statusOf(mirror, failed.id)).toBe('failed');

      sim.store.retry(failed.id);
      sim.stats.reset();
      const r = await runActive(deps, active);
      expect(r.outcome).toBe('success');
      expect(await statusOf(mirror, failed.id)).toBe('queued');
      const events = (await mirror.outbox.after(0, 1_000_000))
        .filter((e) => e.jobId === failed.id && e.type === 'job.status_changed')
        .map((e) => ({ from: e.from, to: e.to, inferred: e.inferred }));
      expect(events).toEqual([{ from: 'failed', to: 'queued', inferred: false }]);
      // Found by the status=queued listing: no per-job request was needed.
      expect(sim.stats.count((q) => q.route === 'retrieve')).toBe(0);
    });

    it('resolves jobs that left the in-flight statuses, and marks a job deleted upstream as missing', async () => {
      w = await storeWorld(store, { jobs: 800, days: 3 });
      const { sim, deps, mirror } = w;
      await runHead(deps, HEAD);
      const inFlight = sim.store.all().filter((j) => j.status === 'queued' || j.status === 'in_progress');
      expect(inFlight.length).toBeGreaterThanOrEqual(2);
      const [cancelled, deleted] = inFlight as [(typeof inFlight)[0], (typeof inFlight)[0]];
      sim.store.cancel(cancelled.id);
      sim.store.remove(deleted.id);
      const r = await runActive(deps, active);
      expect(r.outcome).toBe('success');
      expect(await statusOf(mirror, cancelled.id)).toBe('cancelled');
      const gone = await mirror.views.jobTrace(deleted.id);
      expect(gone?.upstreamMissingAt).toEqual(expect.any(Number)); // kept, marked
      expect(r.missing).toBe(1);
    });
  });

  describe('quarantine', () => {
    it('a malformed item lands in quarantine, the rest of its page lands, and the summary counts it', async () => {
      w = await storeWorld(store, { jobs: 300, days: 1 });
      const { sim, deps, mirror } = w;
      sim.faults.enqueue('malformed_item');
      const pass = await syncOnce(deps, {
        pageSize: 100,
        payloadMode: 'request',
        overlapSeconds: 300,
        backfillDays: 30,
        activeStatuses: active.statuses,
      });
      expect(pass.outcome).toBe('success');
      expect(pass.totals.quarantined).toBe(1);
      expect(pass.tasks.find((t) => t.task === 'head')?.quarantined).toBe(1);
      const rows = await mirror.quarantine.list();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.partition).toBe('head');
      expect(rows[0]?.reason.length).toBeGreaterThan(0);
      // Everything else of that first page (and of every other page) is mirrored.
      const known = await mirror.jobs.knownIds(sim.store.all().map((j) => j.id));
      const missing = sim.store.all().filter((j) => !known.has(j.id));
      expect(missing.length).toBeLessThanOrEqual(1);
      for (const j of missing) expect(rows[0]?.jobId).toBe(j.id);
    });
  });

  describe('window', () => {
    it('an aborted window resumes from its checkpoint: no page fetched twice, the day ends complete', async () => {
      w = await storeWorld(store, { jobs: 1200, days: 1 });
      const { sim, deps, mirror } = w;
      const day = utcDay(sim.clock.now() / 1000 - 86_400); // a closed day: the day before the clock's
      const inDay = sim.store.all().filter((j) => utcDay(j.created_at) === day);
      expect(inDay.length).toBeGreaterThan(300);
      const stop = new AbortController();
      let pages = 0;
      const first = await runWindow(
        {
          ...deps,
          signal: stop.signal,
          onPage: () => {
            if (++pages === 1) stop.abort(); // after the first committed batch (5 pages)
          },
        },
        { day, pageSize: 25, payloadMode: 'request', backfill: true },
      );
      expect(first.outcome).toBe('aborted');
      const state = await mirror.syncState.get(`window:${day}`);
      expect(state?.status).toBe('running');
      expect(state?.cursor).toMatch(/^job_/);
      expect(await jobCount(w)).toBeLessThan(inDay.length);

      const second = await runWindow(deps, { day, pageSize: 25, payloadMode: 'request', backfill: true });
      expect(second.outcome).toBe('success');
      expect(first.pages + second.pages).toBe(Math.ceil(inDay.length / 25));
      const afters = sim.stats.requests
        .filter((r) => r.route === 'list')
        .map((r) => r.query.after ?? '(start)');
      expect(new Set(afters).size).toBe(afters.length);
      expect(await jobCount(w)).toBe(inDay.length);
      expect((await mirror.runs.list({ partition: `window:${day}` })).map((r) => r.outcome)).toEqual([
        'success',
        'aborted',
      ]);

      // A closed day that is done: a rerun is a no-op; restart (reconcile) sweeps it again.
      expect(await mirror.syncState.get(`window:${day}`)).toMatchObject({ status: 'done', cursor: null });
      const noop = await runWindow(deps, { day, pageSize: 50, payloadMode: 'none' });
      expect(noop).toMatchObject({ outcome: 'success', requests: 0 });
      const again = await runWindow(deps, { day, pageSize: 50, payloadMode: 'none', restart: true });
      expect(again.requests).toBe(Math.ceil(inDay.length / 50));
    });

    it('a cursor rejected upstream (invalid_cursor) restarts the window from its start', async () => {
      w = await storeWorld(store, { jobs: 600, days: 1 });
      const { sim, deps, mirror } = w;
      const day = utcDay(sim.clock.now() / 1000 - 86_400);
      const inDay = sim.store.all().filter((j) => utcDay(j.created_at) === day).length;
      sim.faults.enqueue('ok', 'cursor_reject');
      const r = await runWindow(deps, { day, pageSize: 50, payloadMode: 'none' });
      expect(r.outcome).toBe('success');
      expect(await jobCount(w)).toBe(inDay);
      // page 1, rejected page 2, then the whole day again.
      expect(sim.stats.count((q) => q.route === 'list')).toBe(2 + Math.ceil(inDay / 50));
      expect(await mirror.quarantine.list()).toEqual([]);
    });
  });

  describe('head', () => {
    it('an interrupted first backfill completes on the next run, new jobs included', async () => {
      w = await storeWorld(store, { jobs: 1200, days: 10 });
      const { sim, deps, mirror } = w;
      const stop = new AbortController();
      let pages = 0;
      const first = await runHead(
        { ...deps, signal: stop.signal, onPage: () => ++pages === 1 && stop.abort() },
        { ...HEAD, pageSize: 50 },
      );
      expect(first.outcome).toBe('aborted');
      expect((await mirror.syncState.get('head'))?.cursor).toMatch(/^job_/);
      sim.clock.advance(20 * 60_000);
      const second = await runHead(deps, { ...HEAD, pageSize: 50 });
      expect(second.outcome).toBe('success');
      const truth = sim.store.all();
      const known = await mirror.jobs.knownIds(truth.map((j) => j.id));
      expect(truth.filter((j) => !known.has(j.id)).map((j) => j.id)).toEqual([]);
      const state = await mirror.syncState.get('head');
      expect(state).toMatchObject({ status: 'done', cursor: null });
      expect(state?.watermark).toBe(Math.max(...truth.map((j) => j.created_at)));
      // Each committed page was listed once: resumed after the interruption, not from scratch.
      const afters = sim.stats.requests.filter((r) => r.query.after).map((r) => r.query.after);
      expect(new Set(afters).size).toBe(afters.length);
    });

    it('backfillDays 0 mirrors only jobs created from the first run on', async () => {
      w = await storeWorld(store, { jobs: 500, days: 3 });
      const { sim, deps } = w;
      const first = await runHead(deps, { ...HEAD, backfillDays: 0 });
      expect(first.requests).toBe(1);
      expect(await jobCount(w)).toBe(0);
      sim.clock.advance(10 * 60_000);
      const created = sim.store
        .all()
        .filter((j) => j.created_at * 1000 > sim.clock.now() - 10 * 60_000).length;
      await runHead(deps, { ...HEAD, backfillDays: 0 });
      expect(await jobCount(w)).toBeGreaterThanOrEqual(created);
      expect(await jobCount(w)).toBeLessThan(created + 30); // plus at most the overlap's few minutes
    });
  });

  describe('hydrate', () => {
    it('fills requests (and derived columns) of jobs first seen lightweight, by day listings, once', async () => {
      w = await storeWorld(store, { jobs: 900, days: 1 });
      const { sim, deps, mirror } = w;
      const days = [...new Set(sim.store.all().map((j) => utcDay(j.created_at)))];
      for (const day of days) await runWindow(deps, { day, pageSize: 100, payloadMode: 'none' });
      const withoutRequest = () => sqlCount(mirror, 'SELECT count(*) FROM jobs WHERE NOT has_request');
      expect(await withoutRequest()).toBe(sim.store.size);
      sim.stats.reset();
      const r = await runHydrate(deps, { payloadMode: 'request' });
      expect(r.outcome).toBe('success');
      expect(await withoutRequest()).toBe(0);
      // Whole days re-listed with include_request: about one request per 100 jobs, not one per job.
      expect(sim.stats.count((q) => q.route === 'retrieve')).toBe(0);
      expect(sim.stats.total).toBeLessThanOrEqual(Math.ceil(sim.store.size / 100) + days.length);
      for (const truth of sim.store.all().slice(0, 50)) {
        expect((await mirror.jobs.get(truth.id, withPayloads))?.request).toEqual(truth.request);
        const [row] = await sqlRows<{ model: string | null }>(mirror, 'SELECT model FROM jobs WHERE id = ?', [
          truth.id,
        ]);
        expect(row?.model).toBe(truth.request?.model ?? null);
      }
      const files = await sqlCount(mirror, 'SELECT count(*) FROM job_files');
      expect(files).toBeGreaterThan(0);
      // Requests never change upstream: a second run has nothing to fetch.
      expect((await runHydrate(deps, { payloadMode: 'request' })).requests).toBe(0);
    });

    it('full mode also fetches the responses of completed jobs; a job with a huge request is mirrored whole', async () => {
      w = await storeWorld(store, { jobs: 200, days: 1 });
      const { sim, deps, mirror } = w;
      const big = sim.store.create({
        endpoint: '/v1/documents/extract',
        request: {
          document: { filename: 'huge.pdf', url: 'https://x/huge.pdf' },
          notes: 'x'.repeat(3_000_000),
        },
      });
      await runHead(deps, { ...HEAD, payloadMode: 'none' });
      const r = await runHydrate(deps, { payloadMode: 'full' });
      expect(r.outcome).toBe('success');
      const completed = sim.store.all().filter((j) => j.status === 'completed');
      expect(completed.length).toBeGreaterThan(50);
      const noResponse = await sqlCount(
        mirror,
        "SELECT count(*) FROM jobs WHERE status = 'completed' AND NOT has_response",
      );
      expect(noResponse).toBe(0);
      const sample = completed[0];
      expect((await mirror.jobs.get(sample?.id ?? '', withPayloads))?.response).toEqual(sample?.response);
      // include_response pages hold at most 20 jobs.
      const limits = sim.stats.requests
        .filter((q) => q.query.include_response === 'true')
        .map((q) => Number(q.query.limit ?? 20));
      expect(Math.max(...limits)).toBeLessThanOrEqual(20);
      expect((await mirror.jobs.get(big.id, withPayloads))?.request).toEqual(big.request);
    });
  });
});
