import { describe, expect, it } from 'vitest';
import { eventId, jobSnapshot, jobToRow, mergeObservation, transitionSteps } from '../../src/mirror/index.ts';
import { timeSteps } from '../../src/mirror/transitions.ts';
import type { JobStatus } from '../../src/retab/schemas.ts';
import { BASE_CREATED, light, makeJob } from './factory.ts';

describe('jobToRow', () => {
  it('derives every filter column from the request and metadata', () => {
    const d = jobToRow(
      makeJob({
        request: {
          document: { filename: 'Main.TIFF' },
          documents: [
            { filename: 'annex.pdf' },
            { filename: 'README' },
            { url: 'no-name' },
            { filename: '' },
          ],
          model: 'gpt-x',
          project_id: 'proj_7',
        },
        metadata: { workflow_id: 'wf_1', workflow_node_id: 'node_a', node_id: 'node_b' },
        error: { code: 'invalid_document', message: 'unreadable' },
      }),
    );
    expect(d).toMatchObject({
      source: 'workflow',
      projectId: 'proj_7',
      model: 'gpt-x',
      workflowId: 'wf_1',
      workflowNodeId: 'node_a',
      errorCode: 'invalid_document',
      errorMessage: 'unreadable',
      extra: null,
    });
    expect(d.files).toEqual([
      { position: 0, filename: 'Main.TIFF', documentType: 'tiff' },
      { position: 1, filename: 'annex.pdf', documentType: 'pdf' },
      { position: 2, filename: 'README', documentType: null },
    ]);
    expect(d.metadataPairs).toEqual([
      ['workflow_id', 'wf_1'],
      ['workflow_node_id', 'node_a'],
      ['node_id', 'node_b'],
    ]);
    expect(JSON.parse(d.error!)).toEqual({ code: 'invalid_document', message: 'unreadable' });
  });

  it('derives source as workflow, else project, else api', () => {
    const src = (request: Record<string, unknown> | null, metadata: Record<string, string> | null) =>
      jobToRow(makeJob({ request, metadata })).source;
    expect(src({ project_id: 'p' }, { workflow_id: 'w' })).toBe('workflow');
    expect(src({ project_id: 'p' }, { workflow_id: '' })).toBe('project');
    expect(src({ project_id: 'p' }, null)).toBe('project');
    expect(src({ model: 'm' }, { team: 'x' })).toBe('api');
    expect(src(null, null)).toBe('api');
  });

  it('takes node_id when workflow_node_id is absent', () => {
    expect(jobToRow(makeJob({ metadata: { node_id: 'n1' } })).workflowNodeId).toBe('n1');
    expect(jobToRow(makeJob({ metadata: null })).workflowNodeId).toBeNull();
  });

  it('marks an absent request as unknown, not empty', () => {
    const d = jobToRow(light(makeJob()));
    expect(d).toMatchObject({ request: null, response: null, files: null, projectId: null, model: null });
    expect(jobToRow(makeJob({ request: {} })).files).toEqual([]);
  });

  it('keeps unknown top-level fields in extra, and the snapshot rebuilds them', () => {
    const job = {
      ...makeJob({ response: { status_code: 200, body: 1 } }),
      usage: { pages: 2 },
      region: 'eu',
    };
    const d = jobToRow(job);
    expect(JSON.parse(d.extra!)).toEqual({ usage: { pages: 2 }, region: 'eu' });
    expect(JSON.parse(d.response!)).toEqual({ status_code: 200, body: 1 });
    const snap = jobSnapshot(job);
    expect(snap).toMatchObject({ usage: { pages: 2 }, region: 'eu', request: null, response: null });
    expect(snap.started_at).toBeNull();
  });
});

describe('transitionSteps', () => {
  const steps = (from: JobStatus, to: JobStatus) =>
    transitionSteps(from, to).map((s) => `${s.from}>${s.to}${s.inferred ? '?' : ''}`);

  it('infers the skipped steps of the forward lifecycle', () => {
    expect(steps('queued', 'in_progress')).toEqual(['queued>in_progress']);
    expect(steps('queued', 'completed')).toEqual(['queued>in_progress?', 'in_progress>completed']);
    expect(steps('validating', 'failed')).toEqual([
      'validating>queued?',
      'queued>in_progress?',
      'in_progress>failed',
    ]);
  });

  it('goes straight to cancelled or expired from any active status', () => {
    for (const from of ['validating', 'queued', 'in_progress'] as const) {
      expect(steps(from, 'cancelled')).toEqual([`${from}>cancelled`]);
      expect(steps(from, 'expired')).toEqual([`${from}>expired`]);
    }
  });

  it('follows retries around the cycle', () => {
    expect(steps('failed', 'queued')).toEqual(['failed>queued']);
    expect(steps('failed', 'in_progress')).toEqual(['failed>queued?', 'queued>in_progress']);
    expect(steps('expired', 'completed')).toEqual([
      'expired>queued?',
      'queued>in_progress?',
      'in_progress>completed',
    ]);
    expect(steps('failed', 'failed')).toEqual([
      'failed>queued?',
      'queued>in_progress?',
      'in_progress>failed',
    ]);
    expect(steps('cancelled', 'cancelled')).toEqual(['cancelled>queued?', 'queued>cancelled']);
  });

  it('infers nothing when the path is ambiguous or impossible', () => {
    // in_progress → queued went through failed, cancelled or expired: unknown which.
    expect(steps('in_progress', 'queued')).toEqual(['in_progress>queued']);
    expect(steps('completed', 'queued')).toEqual(['completed>queued']);
    expect(steps('completed', 'completed')).toEqual([]);
    expect(steps('queued', 'queued')).toEqual([]);
  });
});

describe('timeSteps', () => {
  it('dates steps from the job timestamps, else the observation, never out of order', () => {
    const job = { createdAt: 100, startedAt: 110, completedAt: 130 };
    expect(
      timeSteps(transitionSteps('validating', 'completed'), job, 999_999).map((s) => s.occurredAt),
    ).toEqual([110_000, 110_000, 130_000]);
    expect(timeSteps(transitionSteps('failed', 'queued'), job, 555).map((s) => s.occurredAt)).toEqual([555]);
    const noTimes = { createdAt: 100, startedAt: null, completedAt: null };
    expect(timeSteps(transitionSteps('queued', 'cancelled'), noTimes, 777).map((s) => s.occurredAt)).toEqual([
      777,
    ]);
  });
});

describe('mergeObservation', () => {
  const stored = (job = makeJob(), at = 1000) => mergeObservation(undefined, jobToRow(job), at).next;

  it('keeps the stored request-derived columns when the observation has no request', () => {
    const job = makeJob({ metadata: null });
    const plan = mergeObservation(
      stored(job),
      jobToRow(light(job, { metadata: { workflow_id: 'w' } })),
      2000,
    );
    expect(plan).toMatchObject({ kind: 'update', request: null, rewriteFiles: false, rewriteMetadata: true });
    expect(plan.next).toMatchObject({
      source: 'workflow',
      projectId: 'proj_1',
      model: 'retab-small',
      hasRequest: true,
    });
  });

  it('only touches an unchanged job, and skips a stale one', () => {
    const job = makeJob();
    const s = stored(job);
    expect(mergeObservation(s, jobToRow(job), 2000)).toMatchObject({ kind: 'touch', steps: [] });
    expect(mergeObservation(s, jobToRow(light(job)), 999).kind).toBe('stale');
  });

  it('plans status steps for a moved job and a completed retry cycle', () => {
    const job = makeJob({ status: 'failed', started_at: BASE_CREATED + 1, completed_at: BASE_CREATED + 2 });
    const s = stored(job);
    const again = jobToRow({ ...job, started_at: BASE_CREATED + 8, completed_at: BASE_CREATED + 9 });
    const plan = mergeObservation(s, again, 2000);
    expect(plan.steps.map((x) => [x.from, x.to, x.inferred])).toEqual([
      ['failed', 'queued', true],
      ['queued', 'in_progress', true],
      ['in_progress', 'failed', false],
    ]);
    expect(plan.next.statusChangedAt).toBe((BASE_CREATED + 9) * 1000);
  });
});

describe('which observation is newer: the job first, then the clock', () => {
  const stored = (job = makeJob(), at = 1000) => mergeObservation(undefined, jobToRow(job), at).next;
  const t = (n: number) => BASE_CREATED + n;

  it('a late page with an older lifecycle position for the same attempt never wins, whatever its clock', () => {
    // Another process (its clock ahead) read the job while it ran; this one already has it completed.
    const done = makeJob({ status: 'completed', started_at: t(5), completed_at: t(9) });
    const running = jobToRow({ ...done, status: 'in_progress', completed_at: null });
    expect(mergeObservation(stored(done, 1000), running, 5000)).toMatchObject({ kind: 'stale', steps: [] });
    // An older completion (an earlier attempt, read late) does not fake a retry cycle either.
    const older = jobToRow({ ...done, status: 'failed', started_at: t(1), completed_at: t(2) });
    expect(mergeObservation(stored(done, 1000), older, 5000).kind).toBe('stale');
  });

  it('a later attempt wins even when its clock is behind (the job says it is newer)', () => {
    const failed = makeJob({ status: 'failed', started_at: t(1), completed_at: t(2) });
    const retried = jobToRow({ ...failed, status: 'in_progress', started_at: t(8), completed_at: null });
    const plan = mergeObservation(stored(failed, 5000), retried, 1000);
    expect(plan.kind).toBe('update');
    expect(plan.steps.map((x) => [x.from, x.to])).toEqual([
      ['failed', 'queued'],
      ['queued', 'in_progress'],
    ]);
    expect(plan.next.observedAt).toBe(5000); // the stored date never moves back
  });

  it('an attempt that ended before the stored one started is older, whatever its clock', () => {
    // Attempt 1 was cancelled while queued (no started_at) at t(3); attempt 2 started at t(5) and is stored.
    const running = makeJob({ status: 'in_progress', started_at: t(5), completed_at: null });
    const lateCancel = jobToRow({ ...running, status: 'cancelled', started_at: null, completed_at: t(3) });
    expect(mergeObservation(stored(running, 1000), lateCancel, 5000)).toMatchObject({
      kind: 'stale',
      steps: [],
    });
    // And the other way round: the stored cancel is older than an attempt started after it.
    const cancelled = makeJob({ status: 'cancelled', started_at: null, completed_at: t(3) });
    const retried = jobToRow({ ...cancelled, status: 'in_progress', started_at: t(5), completed_at: null });
    expect(mergeObservation(stored(cancelled, 5000), retried, 1000).kind).toBe('update');
  });

  it("the retry counter of Retab's newer API decides before any clock", () => {
    // Attempt 1 cancelled while queued, then retried: attempt 2 is queued. Timestamps cannot tell these apart.
    const cancelled = makeJob({ status: 'cancelled', completed_at: t(3) });
    const a1 = { ...cancelled, attempt_count: 1, last_attempt_at: t(1) } as typeof cancelled;
    const a2 = {
      ...cancelled,
      status: 'queued',
      completed_at: null,
      attempt_count: 2,
      last_attempt_at: t(6),
    };
    // The retry (attempt 2) wins even when its clock is behind.
    const retry = mergeObservation(stored(a1, 5000), jobToRow(a2 as typeof cancelled), 1000);
    expect(retry.steps.map((x) => [x.from, x.to])).toEqual([['cancelled', 'queued']]);
    // A late page of attempt 1 (queued, before its cancel) never undoes attempt 2, even with a later clock.
    const lateA1 = { ...a1, status: 'queued', completed_at: null } as typeof cancelled;
    expect(mergeObservation(stored(a2 as typeof cancelled, 1000), jobToRow(lateA1), 5000).kind).toBe('stale');
    // last_attempt_at alone (no count) says the same.
    const { attempt_count: _c1, ...b1 } = a1 as typeof a1 & { attempt_count: number };
    const { attempt_count: _c2, ...b2 } = a2;
    expect(
      mergeObservation(stored(b2 as typeof cancelled, 1000), jobToRow(b1 as typeof cancelled), 5000).kind,
    ).toBe('stale');
  });

  it('when the job cannot tell (queued after cancelled: a retry, or a late page?), the send time decides', () => {
    const cancelled = makeJob({ status: 'cancelled', completed_at: t(3) });
    const queued = jobToRow({ ...cancelled, status: 'queued', completed_at: null });
    expect(mergeObservation(stored(cancelled, 2000), queued, 1999).kind).toBe('stale');
    expect(mergeObservation(stored(cancelled, 2000), queued, 2001).steps).toHaveLength(1);
  });
});

describe('eventId', () => {
  it('is stable, prefixed, sorts by time, and differs per transition and time', () => {
    const a = eventId('job_1', 'job.status_changed', 'queued', 'in_progress', 5);
    expect(a).toMatch(/^evt_000000005[A-Za-z0-9_-]{22}$/);
    expect(eventId('job_1', 'job.discovered', null, 'queued', 1_795_000_000_000) > a).toBe(true);
    expect(eventId('job_1', 'job.status_changed', 'queued', 'in_progress', 5)).toBe(a);
    expect(eventId('job_1', 'job.status_changed', 'queued', 'in_progress', 6)).not.toBe(a);
    expect(eventId('job_1', 'job.status_changed', 'failed', 'queued', 5)).not.toBe(a);
  });
});
