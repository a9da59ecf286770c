/**
 * The write path's rules (`jobs.applyPage`, the store seam), on each store (test/stores.ts): rows, derived
 * rows, events, checkpoint and quarantine in one transaction, with the merge rule of mergeObservation.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type MirrorStore, rowToJob } from '../../src/mirror/index.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { jobRow, sqlCount, sqlRows, sqlRun } from '../storeSql.ts';
import { forEachStore } from '../stores.ts';
import { BASE_CREATED, light, makeJob } from './factory.ts';

let m: MirrorStore;

const T0 = 1_795_000_000_000;
const row = (id: string) => jobRow(m, id);
const count = (table: string) => sqlCount(m, `SELECT count(*) FROM ${table}`);
const files = (id: string) =>
  sqlRows(
    m,
    `SELECT f.position, f.filename, f.document_type FROM job_files f JOIN jobs j ON j.seq = f.job_seq
     WHERE j.id = ? AND f.job_id = j.id ORDER BY f.position`,
    [id],
  );
const meta = (id: string) =>
  sqlRows(
    m,
    `SELECT m.key, m.value FROM job_metadata m JOIN jobs j ON j.seq = m.job_seq
     WHERE j.id = ? AND m.job_id = j.id ORDER BY m.key`,
    [id],
  );
/** The job's outbox events (the one wire shape), in seq order. */
const events = async (id: string) => (await m.outbox.after(0, 1_000_000)).filter((e) => e.jobId === id);
const transitions = async (id: string) =>
  (await events(id)).filter((e) => e.type === 'job.status_changed').map((e) => [e.from, e.to, e.inferred]);

forEachStore((store) => {
  beforeEach(async () => {
    m = await store.open();
  });

  describe('applyPage', () => {
    it('inserts new jobs with their files and metadata and emits one discovery each', async () => {
      const a = makeJob({
        request: {
          documents: [{ filename: 'scan.Png' }, { filename: 'notes' }, { filename: 'b.pdf' }],
          model: 'm1',
        },
        metadata: { workflow_id: 'wf_1', node_id: 'n_7', team: 'ops' },
      });
      const b = makeJob({
        status: 'completed',
        started_at: BASE_CREATED + 5,
        completed_at: BASE_CREATED + 9,
      });
      const r = await m.jobs.applyPage([a, b], { observedAt: T0 });
      expect(r).toEqual({ inserted: 2, updated: 0, unchanged: 0, events: 2, quarantined: 0 });

      const stored = await row(a.id);
      expect(stored).toMatchObject({
        source: 'workflow',
        workflowId: 'wf_1',
        workflowNodeId: 'n_7',
        model: 'm1',
        projectId: null,
        hasRequest: true,
        hasResponse: false,
        firstSeenAt: T0,
        lastSeenAt: T0,
        observedAt: T0,
      });
      expect(await files(a.id)).toEqual([
        { position: 0, filename: 'scan.Png', document_type: 'png' },
        { position: 1, filename: 'notes', document_type: null },
        { position: 2, filename: 'b.pdf', document_type: 'pdf' },
      ]);
      expect(await meta(a.id)).toEqual([
        { key: 'node_id', value: 'n_7' },
        { key: 'team', value: 'ops' },
        { key: 'workflow_id', value: 'wf_1' },
      ]);
      // A job first seen mid-lifecycle gets its discovery only, no invented history.
      const evB = await events(b.id);
      expect(evB.map((e) => [e.type, e.from, e.to])).toEqual([['job.discovered', null, 'completed']]);
      expect((await row(b.id))?.statusChangedAt).toBe((BASE_CREATED + 9) * 1000);
    });

    it('is idempotent: the same page twice writes no second event', async () => {
      const page = Array.from({ length: 30 }, (_, i) => makeJob({ created_at: BASE_CREATED + i }));
      const first = await m.jobs.applyPage(page, { observedAt: T0 });
      expect(first.inserted).toBe(30);
      expect(first.events).toBe(30);
      const second = await m.jobs.applyPage(page, { observedAt: T0 });
      expect(second).toEqual({ inserted: 0, updated: 0, unchanged: 30, events: 0, quarantined: 0 });
      expect(await count('job_events')).toBe(30);
      expect(await count('job_files')).toBe(30);
      // Re-applying a page with a status change is idempotent too.
      const moved = page.map((j) => ({ ...j, status: 'in_progress' as const, started_at: j.created_at + 1 }));
      expect((await m.jobs.applyPage(moved, { observedAt: T0 + 1 })).events).toBe(30);
      expect((await m.jobs.applyPage(moved, { observedAt: T0 + 1 })).events).toBe(0);
      expect((await m.jobs.applyPage(moved, { observedAt: T0 + 2 })).events).toBe(0);
      expect(await count('job_events')).toBe(60);
    });

    it('never lets a lightweight item erase the request, the response or the columns derived from them', async () => {
      const full = makeJob({
        status: 'completed',
        started_at: BASE_CREATED + 1,
        completed_at: BASE_CREATED + 2,
        request: {
          documents: [{ filename: 'a.DOCX' }, { filename: 'b.csv' }],
          model: 'm2',
          project_id: 'p9',
        },
        response: { status_code: 200, body: { total: 3 } },
      });
      await m.jobs.applyPage([full], { observedAt: T0 });
      const before = await row(full.id);

      const r = await m.jobs.applyPage([light(full)], { observedAt: T0 + 10 });
      expect(r.unchanged).toBe(1);
      const after = await row(full.id);
      expect(after).toEqual({ ...before, lastSeenAt: T0 + 10, observedAt: T0 + 10 });
      expect(rowToJob(after!, { includeRequest: true, includeResponse: true })).toEqual(full);
      expect(await files(full.id)).toHaveLength(2);

      // Source is recomputed from the stored request and the incoming metadata.
      await m.jobs.applyPage([light(full, { metadata: { workflow_id: 'wf_2' } })], { observedAt: T0 + 20 });
      expect(await row(full.id)).toMatchObject({
        source: 'workflow',
        projectId: 'p9',
        model: 'm2',
        hasRequest: true,
      });
      await m.jobs.applyPage([light(full, { metadata: null })], { observedAt: T0 + 30 });
      expect(await row(full.id)).toMatchObject({ source: 'project', workflowId: null, metadata: null });
      expect(await meta(full.id)).toEqual([]);
      expect(await files(full.id)).toHaveLength(2);
    });

    it('keeps job_metadata in step with the metadata, pair by pair', async () => {
      const job = makeJob({ metadata: { a: '1', b: '2', c: '3' } });
      await m.jobs.applyPage([job], { observedAt: T0 });
      await m.jobs.applyPage([light(job, { metadata: { a: '1', b: 'changed', d: '4' } })], {
        observedAt: T0 + 1,
      });
      expect(await meta(job.id)).toEqual([
        { key: 'a', value: '1' },
        { key: 'b', value: 'changed' },
        { key: 'd', value: '4' },
      ]);
      const filtered = await sqlRows(m, 'SELECT job_id FROM job_metadata WHERE key = ? AND value = ?', [
        'b',
        'changed',
      ]);
      expect(filtered).toEqual([{ job_id: job.id }]);
    });

    it('fills in a request later (hydration) and derives its columns then', async () => {
      const job = makeJob();
      await m.jobs.applyPage([light(job)], { observedAt: T0 });
      expect(await row(job.id)).toMatchObject({
        hasRequest: false,
        source: 'api',
        projectId: null,
        model: null,
      });
      expect(await files(job.id)).toEqual([]);
      const r = await m.jobs.applyPage([job], { observedAt: T0 + 5 });
      expect(r.updated).toBe(1);
      expect(r.events).toBe(0);
      expect(await row(job.id)).toMatchObject({ hasRequest: true, source: 'project', projectId: 'proj_1' });
      expect(await files(job.id)).toEqual([
        { position: 0, filename: 'Invoice-001.PDF', document_type: 'pdf' },
      ]);
    });

    it('records a payload upstream does not have as known, when it was asked for, so hydrate asks once', async () => {
      const noRequest = makeJob({ request: null });
      const missing = () => m.jobs.missingPayload({ kind: 'request', limit: 10 });
      await m.jobs.applyPage([light(noRequest)], { observedAt: T0 });
      expect(await missing()).toEqual([noRequest.id]);
      // A lightweight listing says nothing about the request, even when it names the flags as not included.
      await m.jobs.applyPage([light(noRequest)], { observedAt: T0 + 1, payloads: { request: false } });
      expect(await missing()).toEqual([noRequest.id]);
      // Fetched with include_request and still null: upstream has none. Known now; no event, no files.
      const r = await m.jobs.applyPage([noRequest], { observedAt: T0 + 2, payloads: { request: true } });
      expect(r).toMatchObject({ updated: 1, events: 0 });
      expect(await missing()).toEqual([]);
      expect(await row(noRequest.id)).toMatchObject({ hasRequest: true, request: null, source: 'api' });
      expect(await files(noRequest.id)).toEqual([]);
      // A new job first seen that way is known at once.
      const other = makeJob({ request: null });
      await m.jobs.applyPage([other], { observedAt: T0 + 3, payloads: { request: true } });
      expect(await missing()).toEqual([]);

      // A response is only settled by a completed job: an in-flight one has none yet.
      const running = makeJob({ status: 'in_progress', started_at: BASE_CREATED + 5 });
      await m.jobs.applyPage([running], { observedAt: T0 + 4, payloads: { request: true, response: true } });
      expect(await row(running.id)).toMatchObject({ hasResponse: false });
      const done = { ...running, status: 'completed' as const, completed_at: BASE_CREATED + 9 };
      await m.jobs.applyPage([done], { observedAt: T0 + 5, payloads: { request: true, response: true } });
      expect(await row(running.id)).toMatchObject({ hasResponse: true, response: null });
      expect(await m.jobs.missingPayload({ kind: 'response', limit: 10 })).toEqual([]);
    });

    it('takes a request even from a stale observation (requests never change), and nothing else', async () => {
      const job = makeJob({ status: 'queued' });
      await m.jobs.applyPage([light(job, { status: 'in_progress', started_at: BASE_CREATED + 3 })], {
        observedAt: T0 + 100,
      });
      const r = await m.jobs.applyPage([job], { observedAt: T0 });
      expect(r.updated).toBe(1);
      expect(await row(job.id)).toMatchObject({
        status: 'in_progress',
        hasRequest: true,
        observedAt: T0 + 100,
      });
      expect(await files(job.id)).toHaveLength(1);
    });

    it('never lets an older observation regress a job', async () => {
      const job = makeJob();
      const done = {
        ...job,
        status: 'completed' as const,
        started_at: BASE_CREATED + 1,
        completed_at: BASE_CREATED + 2,
      };
      await m.jobs.applyPage([done], { observedAt: T0 + 100 });
      const r = await m.jobs.applyPage([{ ...job, status: 'in_progress', started_at: BASE_CREATED + 1 }], {
        observedAt: T0 + 50,
      });
      expect(r).toMatchObject({ updated: 0, unchanged: 1, events: 0 });
      expect(await row(job.id)).toMatchObject({
        status: 'completed',
        observedAt: T0 + 100,
        lastSeenAt: T0 + 100,
      });
    });

    it('lets the later write win when two observations carry the same time', async () => {
      const job = makeJob();
      await m.jobs.applyPage([job], { observedAt: T0 });
      await m.jobs.applyPage([{ ...job, status: 'in_progress', started_at: BASE_CREATED + 4 }], {
        observedAt: T0,
      });
      expect((await row(job.id))?.status).toBe('in_progress');
      expect(await transitions(job.id)).toEqual([['queued', 'in_progress', false]]);
    });

    it('emits the skipped step of a jump first, marked inferred, in seq order', async () => {
      const job = makeJob();
      await m.jobs.applyPage([job], { observedAt: T0 });
      const done = {
        ...job,
        status: 'completed' as const,
        started_at: BASE_CREATED + 7,
        completed_at: BASE_CREATED + 30,
      };
      const r = await m.jobs.applyPage([done], { observedAt: T0 + 60_000 });
      expect(r.events).toBe(2);
      const ev = await events(job.id);
      expect(ev.map((e) => [e.type, e.from, e.to, e.inferred, e.occurredAt])).toEqual([
        ['job.discovered', null, 'queued', false, BASE_CREATED * 1000],
        ['job.status_changed', 'queued', 'in_progress', true, (BASE_CREATED + 7) * 1000],
        ['job.status_changed', 'in_progress', 'completed', false, (BASE_CREATED + 30) * 1000],
      ]);
      expect(ev[1]!.seq).toBeLessThan(ev[2]!.seq);
      expect((await row(job.id))?.statusChangedAt).toBe((BASE_CREATED + 30) * 1000);
      expect(ev[1]).toMatchObject({ from: 'queued', to: 'in_progress', inferred: true, backfill: false });
      expect(ev[1]?.observedAt).toBe(T0 + 60_000);
    });

    it('infers the whole path from validating, and a retry before a restart', async () => {
      const job = makeJob({ status: 'validating' });
      await m.jobs.applyPage([job], { observedAt: T0 });
      await m.jobs.applyPage(
        [{ ...job, status: 'failed', started_at: BASE_CREATED + 2, completed_at: BASE_CREATED + 3 }],
        {
          observedAt: T0 + 1,
        },
      );
      await m.jobs.applyPage(
        [{ ...job, status: 'in_progress', started_at: BASE_CREATED + 50, completed_at: null }],
        {
          observedAt: T0 + 2,
        },
      );
      expect(await transitions(job.id)).toEqual([
        ['validating', 'queued', true],
        ['queued', 'in_progress', true],
        ['in_progress', 'failed', false],
        ['failed', 'queued', true],
        ['queued', 'in_progress', false],
      ]);
    });

    it('treats a retry as an ordinary transition and reports a second failure as a new event', async () => {
      const job = makeJob({ status: 'in_progress', started_at: BASE_CREATED + 1 });
      await m.jobs.applyPage([job], { observedAt: T0 });
      const failed1 = { ...job, status: 'failed' as const, completed_at: BASE_CREATED + 2 };
      failed1.error = { code: 'timeout', message: 'took too long' };
      await m.jobs.applyPage([failed1], { observedAt: T0 + 1000 });
      const retried = {
        ...job,
        status: 'queued' as const,
        started_at: null,
        completed_at: null,
        error: null,
      };
      const r = await m.jobs.applyPage([retried], { observedAt: T0 + 2000 });
      expect(r.events).toBe(1);
      expect(await row(job.id)).toMatchObject({ status: 'queued', errorCode: null, errorMessage: null });
      const failed2 = { ...failed1, started_at: BASE_CREATED + 100, completed_at: BASE_CREATED + 200 };
      await m.jobs.applyPage([failed2], { observedAt: T0 + 3000 });
      expect(await transitions(job.id)).toEqual([
        ['in_progress', 'failed', false],
        ['failed', 'queued', false],
        ['queued', 'in_progress', true],
        ['in_progress', 'failed', false],
      ]);
      const failures = (await events(job.id)).filter((e) => e.to === 'failed');
      expect(new Set(failures.map((e) => e.eventId)).size).toBe(2);
      expect(failures.map((e) => e.occurredAt)).toEqual([
        (BASE_CREATED + 2) * 1000,
        (BASE_CREATED + 200) * 1000,
      ]);
      expect(await row(job.id)).toMatchObject({ errorCode: 'timeout', errorMessage: 'took too long' });
    });

    it('reports a retry that failed again between two observations as a full cycle', async () => {
      const failed = makeJob({
        status: 'failed',
        started_at: BASE_CREATED + 1,
        completed_at: BASE_CREATED + 2,
      });
      await m.jobs.applyPage([failed], { observedAt: T0 });
      await m.jobs.applyPage([failed], { observedAt: T0 + 1 });
      expect(await transitions(failed.id)).toEqual([]);
      const again = { ...failed, started_at: BASE_CREATED + 500, completed_at: BASE_CREATED + 600 };
      const r = await m.jobs.applyPage([again], { observedAt: T0 + 2 });
      expect(r).toMatchObject({ updated: 1, events: 3 });
      expect(await transitions(failed.id)).toEqual([
        ['failed', 'queued', true],
        ['queued', 'in_progress', true],
        ['in_progress', 'failed', false],
      ]);
      expect((await m.jobs.applyPage([again], { observedAt: T0 + 3 })).events).toBe(0);
    });

    it('flags the events of a backfill page', async () => {
      const job = makeJob();
      await m.jobs.applyPage([job], { observedAt: T0, backfill: true });
      await m.jobs.applyPage([{ ...job, status: 'in_progress', started_at: BASE_CREATED + 1 }], {
        observedAt: T0 + 1,
      });
      const ev = await events(job.id);
      expect(ev.map((e) => e.backfill)).toEqual([true, false]);
    });

    it('carries the job snapshot as rowToJob shows it, without request or response', async () => {
      const job = makeJob({
        status: 'completed',
        started_at: BASE_CREATED + 1,
        completed_at: BASE_CREATED + 2,
      });
      const withExtra = { ...job, response: { status_code: 200, body: 'x' }, usage: { pages: 3 } } as Job;
      await m.jobs.applyPage([withExtra], { observedAt: T0 });
      const [payload] = await events(job.id);
      expect(payload?.job).toEqual(rowToJob((await row(job.id))!));
      expect(payload?.job).toMatchObject({ request: null, response: null, usage: { pages: 3 } });
    });

    it('merges a job listed twice in one page against its own first occurrence', async () => {
      const job = makeJob();
      const r = await m.jobs.applyPage(
        [job, { ...job, status: 'in_progress', started_at: BASE_CREATED + 1 }],
        {
          observedAt: T0,
        },
      );
      expect(r).toMatchObject({ inserted: 1, updated: 1, events: 2 });
      expect((await row(job.id))?.status).toBe('in_progress');
    });

    it('writes the checkpoint with the page: deltas add up, absent fields stay', async () => {
      await m.jobs.applyPage([makeJob()], {
        observedAt: T0,
        checkpoint: {
          partition: 'window:2026-11-01',
          cursor: 'job_a',
          status: 'running',
          pagesDelta: 1,
          jobsDelta: 1,
        },
      });
      await m.jobs.applyPage([makeJob()], {
        observedAt: T0 + 1,
        checkpoint: {
          partition: 'window:2026-11-01',
          cursor: 'job_b',
          pagesDelta: 1,
          jobsDelta: 1,
          watermark: 42,
        },
      });
      expect(await m.syncState.get('window:2026-11-01')).toMatchObject({
        cursor: 'job_b',
        status: 'running',
        pages: 2,
        jobs: 2,
        watermark: 42,
      });
      await m.jobs.applyPage([], {
        observedAt: T0 + 2,
        checkpoint: { partition: 'window:2026-11-01', cursor: null, status: 'done', lastSuccessAt: T0 + 2 },
      });
      expect(await m.syncState.get('window:2026-11-01')).toMatchObject({
        cursor: null,
        status: 'done',
        pages: 2,
        watermark: 42,
        lastSuccessAt: T0 + 2,
      });
    });

    it('quarantines rejected items and lands the rest of the page', async () => {
      const good = [makeJob(), makeJob()];
      const raw = { id: 'job_bad', object: 'job', status: 'weird', huge: 'é'.repeat(700_000) };
      const r = await m.jobs.applyPage(good, {
        observedAt: T0,
        partition: 'head',
        rejected: [
          { index: 2, id: 'job_bad', raw, reason: 'status: invalid option', issues: [{ path: ['status'] }] },
          { index: 3, id: null, raw: 'not even an object', reason: 'expected object', issues: [] },
        ],
      });
      expect(r).toMatchObject({ inserted: 2, quarantined: 2 });
      expect(await count('jobs')).toBe(2);
      const q = await m.quarantine.list();
      expect(q.map((x) => [x.jobId, x.partition, x.reason])).toEqual([
        [null, 'head', 'expected object'],
        ['job_bad', 'head', 'status: invalid option'],
      ]);
      expect(JSON.parse(q[1]!.issues!)).toEqual([{ path: ['status'] }]);
      expect(Buffer.byteLength(q[1]!.raw)).toBeLessThanOrEqual(1024 * 1024);
      expect(q[1]!.raw.startsWith('{"id":"job_bad"')).toBe(true);
      expect(q[0]!.raw).toBe('"not even an object"');
    });

    it('writes nothing when a statement fails midway: rows, events, checkpoint and quarantine roll back', async () => {
      const seed = makeJob();
      await m.jobs.applyPage([seed], { observedAt: T0 });
      const broken = { ...makeJob(), organization_id: null } as unknown as Job;
      const page = [
        { ...seed, status: 'in_progress' as const, started_at: BASE_CREATED + 1 },
        makeJob(),
        broken,
      ];
      await expect(
        m.jobs.applyPage(page, {
          observedAt: T0 + 1,
          checkpoint: { partition: 'head', cursor: 'job_x', pagesDelta: 1 },
          rejected: [{ index: 3, id: null, raw: {}, reason: 'bad', issues: [] }],
        }),
      ).rejects.toThrow(/NOT NULL|not-null/);
      expect(await count('jobs')).toBe(1);
      expect((await row(seed.id))?.status).toBe('queued');
      expect(await count('job_events')).toBe(1);
      expect(await count('job_files')).toBe(1);
      expect(await count('quarantine')).toBe(0);
      expect(await m.syncState.get('head')).toBeUndefined();

      // A checkpoint that cannot be written undoes the page too.
      await expect(
        m.jobs.applyPage([makeJob()], { observedAt: T0 + 2, checkpoint: { partition: '' } }),
      ).rejects.toThrow(/partition/);
      expect(await count('jobs')).toBe(1);
      expect(await count('job_events')).toBe(1);
    });

    it('clears upstream_missing_at when the job shows up again', async () => {
      const job = makeJob();
      await m.jobs.applyPage([job], { observedAt: T0 });
      await sqlRun(m, 'UPDATE jobs SET upstream_missing_at = ? WHERE id = ?', [T0 + 10, job.id]);
      await m.jobs.applyPage([light(job)], { observedAt: T0 + 5 });
      expect((await row(job.id))?.upstreamMissingAt).toBe(T0 + 10);
      const r = await m.jobs.applyPage([light(job)], { observedAt: T0 + 20 });
      expect(r.updated).toBe(1);
      expect((await row(job.id))?.upstreamMissingAt).toBeNull();
    });
  });
});
