/**
 * The store's small promises (markMissing, the sync's reads, sync state, the run log), on each store
 * (test/stores.ts), through the seam.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type MirrorStore, ORPHANED_RUN_ERROR } from '../../src/mirror/index.ts';
import { jobRow, sqlCount } from '../storeSql.ts';
import { forEachStore } from '../stores.ts';
import { BASE_CREATED, light, makeJob } from './factory.ts';

let m: MirrorStore;

const T0 = 1_795_000_000_000;
const events = async (id: string) => (await m.outbox.after(0, 1_000_000)).filter((e) => e.jobId === id);

forEachStore((store) => {
  beforeEach(async () => {
    m = await store.open();
  });

  describe('markMissing', () => {
    it('marks once per disappearance, emits job.missing_upstream and keeps the job', async () => {
      const job = makeJob({ status: 'in_progress', started_at: BASE_CREATED + 1 });
      await m.jobs.applyPage([job], { observedAt: T0 });
      expect(await m.jobs.markMissing([job.id, 'job_unknown'], T0 + 10)).toBe(1);
      expect(await m.jobs.markMissing([job.id], T0 + 20)).toBe(0);
      expect(await jobRow(m, job.id)).toMatchObject({ status: 'in_progress', upstreamMissingAt: T0 + 10 });
      const missing = (await events(job.id)).filter((e) => e.type === 'job.missing_upstream');
      expect(missing).toHaveLength(1);
      expect(missing[0]).toMatchObject({ from: 'in_progress', to: null, occurredAt: T0 + 10 });
      expect(missing[0]?.job).toMatchObject({ id: job.id, status: 'in_progress', request: null });

      // It comes back, then disappears again: a second report.
      await m.jobs.applyPage([light(job)], { observedAt: T0 + 30 });
      expect((await jobRow(m, job.id))?.upstreamMissingAt).toBeNull();
      expect(await m.jobs.markMissing([job.id], T0 + 40)).toBe(1);
      expect((await events(job.id)).filter((e) => e.type === 'job.missing_upstream')).toHaveLength(2);
    });

    it('ignores a 404 observed before the job was last seen', async () => {
      const job = makeJob();
      await m.jobs.applyPage([job], { observedAt: T0 + 100 });
      expect(await m.jobs.markMissing([job.id], T0 + 50)).toBe(0);
      expect((await jobRow(m, job.id))?.upstreamMissingAt).toBeNull();
      expect(await sqlCount(m, 'SELECT count(*) FROM job_events')).toBe(1);
    });
  });

  describe('read helpers', () => {
    it('answer the questions the sync asks', async () => {
      expect(await m.jobs.latestCreatedAt()).toBeNull();
      expect(await m.jobs.count()).toBe(0);
      const queued = makeJob({ created_at: BASE_CREATED + 10 });
      const running = makeJob({
        status: 'in_progress',
        created_at: BASE_CREATED + 20,
        started_at: BASE_CREATED + 21,
      });
      const done = makeJob({
        status: 'completed',
        created_at: BASE_CREATED + 30,
        started_at: BASE_CREATED + 31,
        completed_at: BASE_CREATED + 32,
      });
      const hydrated = makeJob({
        status: 'completed',
        created_at: BASE_CREATED + 5,
        started_at: BASE_CREATED + 6,
        completed_at: BASE_CREATED + 7,
        response: { status_code: 200, body: {} },
      });
      const lightOnly = makeJob({ status: 'validating', created_at: BASE_CREATED + 40 });
      await m.jobs.applyPage([queued, running, done, hydrated], { observedAt: T0 });
      await m.jobs.applyPage([light(lightOnly)], { observedAt: T0 + 1000 });

      expect(await m.jobs.latestCreatedAt()).toBe(BASE_CREATED + 40);
      expect(await m.jobs.count()).toBe(5);
      expect(await m.jobs.countByStatus()).toEqual({
        validating: 1,
        queued: 1,
        in_progress: 1,
        completed: 2,
        failed: 0,
        cancelled: 0,
        expired: 0,
      });
      expect(await m.jobs.knownIds([queued.id, 'job_nope', done.id])).toEqual(new Set([queued.id, done.id]));
      expect(await m.jobs.knownIds([])).toEqual(new Set());

      expect(await m.jobs.staleActive({ notSeenSince: T0 + 500 })).toEqual([
        { id: queued.id, status: 'queued', createdAt: BASE_CREATED + 10 },
        { id: running.id, status: 'in_progress', createdAt: BASE_CREATED + 20 },
      ]);
      expect(
        (await m.jobs.staleActive({ statuses: ['in_progress'], notSeenSince: T0 + 500 })).map((j) => j.id),
      ).toEqual([running.id]);
      await m.jobs.markMissing([running.id], T0 + 600);
      expect((await m.jobs.staleActive({ notSeenSince: T0 + 500 })).map((j) => j.id)).toEqual([queued.id]);
      expect((await m.jobs.staleActive({ notSeenSince: T0 })).map((j) => j.id)).toEqual([]);

      expect(await m.jobs.missingPayload({ kind: 'request' })).toEqual([lightOnly.id]);
      expect(await m.jobs.missingPayload({ kind: 'response' })).toEqual([done.id]);
      expect(await m.jobs.missingPayload({ kind: 'request', limit: 0 })).toEqual([]);
      expect(await jobRow(m, 'job_nope')).toBeUndefined();
    });
  });

  describe('sync state', () => {
    it('creates, patches and lists partitions', async () => {
      await m.syncState.save({ partition: 'head', status: 'running' }, T0);
      await m.syncState.save(
        { partition: 'window:2026-11-02', watermark: 7, pagesDelta: 2, jobsDelta: 150 },
        T0 + 1,
      );
      await m.syncState.save({ partition: 'window:2026-11-01', lastError: 'HTTP 500' }, T0 + 2);
      await m.syncState.save({ partition: 'window:2026-11-01', status: 'failed' }, T0 + 3);
      expect(await m.syncState.get('head')).toMatchObject({
        status: 'running',
        lastRunAt: T0,
        updatedAt: T0,
        pages: 0,
      });
      expect(await m.syncState.get('window:2026-11-01')).toMatchObject({
        status: 'failed',
        lastError: 'HTTP 500',
      });
      await m.syncState.save({ partition: 'window:2026-11-01', lastError: null, status: 'done' }, T0 + 4);
      expect(await m.syncState.get('window:2026-11-01')).toMatchObject({
        status: 'done',
        lastError: null,
        updatedAt: T0 + 4,
      });
      expect((await m.syncState.list('window:')).map((s) => s.partition)).toEqual([
        'window:2026-11-01',
        'window:2026-11-02',
      ]);
      expect(await m.syncState.list()).toHaveLength(3);
      expect(await m.syncState.get('nope')).toBeUndefined();
    });
  });

  describe('runs', () => {
    const totals = {
      requests: 3,
      pages: 2,
      jobs: 150,
      inserted: 100,
      updated: 50,
      events: 120,
      missing: 0,
      quarantined: 1,
    };
    it('records runs and finds the last successful one', async () => {
      const a = await m.runs.start({ task: 'head', partition: 'head', startedAt: T0 });
      const b = await m.runs.start({ task: 'window', partition: 'window:2026-11-01', startedAt: T0 + 1 });
      await m.runs.finish(a, { ...totals, outcome: 'success', finishedAt: T0 + 10 });
      await m.runs.finish(b, { ...totals, outcome: 'failed', error: 'boom', finishedAt: T0 + 11 });
      expect((await m.runs.list()).map((r) => [r.id, r.outcome])).toEqual([
        [b, 'failed'],
        [a, 'success'],
      ]);
      expect(await m.runs.list({ partition: 'head', limit: 5 })).toHaveLength(1);
      expect(await m.runs.lastSuccessful('head')).toMatchObject({ id: a, jobs: 150, finishedAt: T0 + 10 });
      expect(await m.runs.lastSuccessful('window:')).toBeUndefined();
      const c = await m.runs.start({ task: 'window', partition: 'window:2026-11-02', startedAt: T0 + 20 });
      expect((await m.runs.list({ limit: 1 }))[0]).toMatchObject({
        id: c,
        outcome: 'running',
        finishedAt: null,
      });
      await m.runs.finish(c, { ...totals, outcome: 'success', finishedAt: T0 + 30 });
      expect((await m.runs.lastSuccessful('window'))?.id).toBe(c);
      expect((await m.runs.lastSuccessful('window:2026-11'))?.id).toBe(c);
      await expect(m.runs.finish(9999, { ...totals, outcome: 'success', finishedAt: 1 })).rejects.toThrow(
        /9999/,
      );
    });

    it('closes a run left `running` by a killed process when the next run of its partition starts', async () => {
      const killed = await m.runs.start({ task: 'head', partition: 'head', startedAt: T0 });
      const other = await m.runs.start({ task: 'window', partition: 'window:2026-11-01', startedAt: T0 + 1 });
      const next = await m.runs.start({ task: 'head', partition: 'head', startedAt: T0 + 60_000 });
      const rows = new Map((await m.runs.list()).map((r) => [r.id, r]));
      expect(rows.get(killed)).toMatchObject({
        outcome: 'aborted',
        error: ORPHANED_RUN_ERROR,
        finishedAt: null,
      });
      // Another partition's run is not this run's business.
      expect(rows.get(other)).toMatchObject({ outcome: 'running', error: null });
      expect(rows.get(next)).toMatchObject({ outcome: 'running' });
      // A run that was alive after all still records its real outcome.
      await m.runs.finish(killed, { ...totals, outcome: 'success', finishedAt: T0 + 5 });
      expect((await m.runs.list({ partition: 'head' })).map((r) => r.outcome)).toEqual([
        'running',
        'success',
      ]);
    });
  });
});
