import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyPage,
  countByStatus,
  countJobs,
  type EventPayload,
  finishRun,
  getJobRow,
  getSyncState,
  jobsMissingPayload,
  knownIds,
  lastSuccessfulRun,
  latestCreatedAt,
  listRuns,
  listSyncStates,
  type Mirror,
  markMissing,
  ORPHANED_RUN_ERROR,
  saveCheckpoint,
  staleActiveJobs,
  startRun,
} from '../../src/mirror/index.ts';
import { BASE_CREATED, count, events, light, makeJob, type TempMirror, tempMirror } from './factory.ts';

let t: TempMirror;
let m: Mirror;
beforeEach(() => {
  t = tempMirror();
  m = t.mirror;
});
afterEach(() => t.cleanup());

const T0 = 1_795_000_000_000;

describe('markMissing', () => {
  it('marks once per disappearance, emits job.missing_upstream and keeps the job', () => {
    const job = makeJob({ status: 'in_progress', started_at: BASE_CREATED + 1 });
    applyPage(m, [job], { observedAt: T0 });
    expect(markMissing(m, [job.id, 'job_unknown'], T0 + 10)).toBe(1);
    expect(markMissing(m, [job.id], T0 + 20)).toBe(0);
    expect(getJobRow(m, job.id)).toMatchObject({ status: 'in_progress', upstreamMissingAt: T0 + 10 });
    const missing = events(m, job.id).filter((e) => e.type === 'job.missing_upstream');
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ from_status: 'in_progress', to_status: null, occurred_at: T0 + 10 });
    const payload = JSON.parse(missing[0]!.payload) as EventPayload;
    expect(payload.job).toMatchObject({ id: job.id, status: 'in_progress', request: null });

    // It comes back, then disappears again: a second report.
    applyPage(m, [light(job)], { observedAt: T0 + 30 });
    expect(getJobRow(m, job.id)?.upstreamMissingAt).toBeNull();
    expect(markMissing(m, [job.id], T0 + 40)).toBe(1);
    expect(events(m, job.id).filter((e) => e.type === 'job.missing_upstream')).toHaveLength(2);
  });

  it('ignores a 404 observed before the job was last seen', () => {
    const job = makeJob();
    applyPage(m, [job], { observedAt: T0 + 100 });
    expect(markMissing(m, [job.id], T0 + 50)).toBe(0);
    expect(getJobRow(m, job.id)?.upstreamMissingAt).toBeNull();
    expect(count(m, 'job_events')).toBe(1);
  });
});

describe('read helpers', () => {
  it('answer the questions the sync asks', () => {
    expect(latestCreatedAt(m)).toBeNull();
    expect(countJobs(m)).toBe(0);
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
    applyPage(m, [queued, running, done, hydrated], { observedAt: T0 });
    applyPage(m, [light(lightOnly)], { observedAt: T0 + 1000 });

    expect(latestCreatedAt(m)).toBe(BASE_CREATED + 40);
    expect(countJobs(m)).toBe(5);
    expect(countByStatus(m)).toEqual({
      validating: 1,
      queued: 1,
      in_progress: 1,
      completed: 2,
      failed: 0,
      cancelled: 0,
      expired: 0,
    });
    expect(knownIds(m, [queued.id, 'job_nope', done.id])).toEqual(new Set([queued.id, done.id]));
    expect(knownIds(m, [])).toEqual(new Set());

    expect(staleActiveJobs(m, { notSeenSince: T0 + 500 })).toEqual([
      { id: queued.id, status: 'queued', createdAt: BASE_CREATED + 10 },
      { id: running.id, status: 'in_progress', createdAt: BASE_CREATED + 20 },
    ]);
    expect(
      staleActiveJobs(m, { statuses: ['in_progress'], notSeenSince: T0 + 500 }).map((j) => j.id),
    ).toEqual([running.id]);
    markMissing(m, [running.id], T0 + 600);
    expect(staleActiveJobs(m, { notSeenSince: T0 + 500 }).map((j) => j.id)).toEqual([queued.id]);
    expect(staleActiveJobs(m, { notSeenSince: T0 }).map((j) => j.id)).toEqual([]);

    expect(jobsMissingPayload(m, { kind: 'request' })).toEqual([lightOnly.id]);
    expect(jobsMissingPayload(m, { kind: 'response' })).toEqual([done.id]);
    expect(jobsMissingPayload(m, { kind: 'request', limit: 0 })).toEqual([]);
    expect(getJobRow(m, 'job_nope')).toBeUndefined();
  });
});

describe('sync state', () => {
  it('creates, patches and lists partitions', () => {
    saveCheckpoint(m, { partition: 'head', status: 'running' }, T0);
    saveCheckpoint(
      m,
      { partition: 'window:2026-11-02', watermark: 7, pagesDelta: 2, jobsDelta: 150 },
      T0 + 1,
    );
    saveCheckpoint(m, { partition: 'window:2026-11-01', lastError: 'HTTP 500' }, T0 + 2);
    saveCheckpoint(m, { partition: 'window:2026-11-01', status: 'failed' }, T0 + 3);
    expect(getSyncState(m, 'head')).toMatchObject({
      status: 'running',
      lastRunAt: T0,
      updatedAt: T0,
      pages: 0,
    });
    expect(getSyncState(m, 'window:2026-11-01')).toMatchObject({ status: 'failed', lastError: 'HTTP 500' });
    saveCheckpoint(m, { partition: 'window:2026-11-01', lastError: null, status: 'done' }, T0 + 4);
    expect(getSyncState(m, 'window:2026-11-01')).toMatchObject({
      status: 'done',
      lastError: null,
      updatedAt: T0 + 4,
    });
    expect(listSyncStates(m, 'window:').map((s) => s.partition)).toEqual([
      'window:2026-11-01',
      'window:2026-11-02',
    ]);
    expect(listSyncStates(m)).toHaveLength(3);
    expect(getSyncState(m, 'nope')).toBeUndefined();
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
  it('records runs and finds the last successful one', () => {
    const a = startRun(m, { task: 'head', partition: 'head', startedAt: T0 });
    const b = startRun(m, { task: 'window', partition: 'window:2026-11-01', startedAt: T0 + 1 });
    finishRun(m, a, { ...totals, outcome: 'success', finishedAt: T0 + 10 });
    finishRun(m, b, { ...totals, outcome: 'failed', error: 'boom', finishedAt: T0 + 11 });
    expect(listRuns(m).map((r) => [r.id, r.outcome])).toEqual([
      [b, 'failed'],
      [a, 'success'],
    ]);
    expect(listRuns(m, { partition: 'head', limit: 5 })).toHaveLength(1);
    expect(lastSuccessfulRun(m, 'head')).toMatchObject({ id: a, jobs: 150, finishedAt: T0 + 10 });
    expect(lastSuccessfulRun(m, 'window:')).toBeUndefined();
    const c = startRun(m, { task: 'window', partition: 'window:2026-11-02', startedAt: T0 + 20 });
    expect(listRuns(m, { limit: 1 })[0]).toMatchObject({ id: c, outcome: 'running', finishedAt: null });
    finishRun(m, c, { ...totals, outcome: 'success', finishedAt: T0 + 30 });
    expect(lastSuccessfulRun(m, 'window')?.id).toBe(c);
    expect(lastSuccessfulRun(m, 'window:2026-11')?.id).toBe(c);
    expect(() => finishRun(m, 9999, { ...totals, outcome: 'success', finishedAt: 1 })).toThrow(/9999/);
  });

  it('closes a run left `running` by a killed process when the next run of its partition starts', () => {
    const killed = startRun(m, { task: 'head', partition: 'head', startedAt: T0 });
    const other = startRun(m, { task: 'window', partition: 'window:2026-11-01', startedAt: T0 + 1 });
    const next = startRun(m, { task: 'head', partition: 'head', startedAt: T0 + 60_000 });
    const rows = new Map(listRuns(m).map((r) => [r.id, r]));
    expect(rows.get(killed)).toMatchObject({
      outcome: 'aborted',
      error: ORPHANED_RUN_ERROR,
      finishedAt: null,
    });
    // Another partition's run is not this run's business.
    expect(rows.get(other)).toMatchObject({ outcome: 'running', error: null });
    expect(rows.get(next)).toMatchObject({ outcome: 'running' });
    // A run that was alive after all still records its real outcome.
    finishRun(m, killed, { ...totals, outcome: 'success', finishedAt: T0 + 5 });
    expect(listRuns(m, { partition: 'head' }).map((r) => r.outcome)).toEqual(['running', 'success']);
  });
});
