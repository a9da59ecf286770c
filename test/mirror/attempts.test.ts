import { beforeEach, describe, expect, it } from 'vitest';
import { type MirrorStore, mergeObservation, rowToJob } from '../../src/mirror/index.ts';
import { jobToRow } from '../../src/mirror/jobToRow.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { jobRow } from '../storeSql.ts';
import { forEachStore } from '../stores.ts';
import { BASE_CREATED, makeJob } from './factory.ts';

// `attempt_count` (a Job field since May 2026) is the job's own word on which observation is newer: a retry
// adds one. It outranks every clock, and a rise is a retry even when the status looks the same. On each
// store (test/stores.ts), through the seam.
let m: MirrorStore;

const T0 = 1_795_000_000_000;
const steps = async (id: string) =>
  (await m.outbox.after(0, 1_000_000))
    .filter((e) => e.jobId === id && e.type === 'job.status_changed')
    .map((e) => [e.from, e.to, e.inferred]);

function failedAttempt(job: Job, attempt: number, startedAt: number, completedAt: number): Job {
  return {
    ...job,
    status: 'failed',
    started_at: startedAt,
    completed_at: completedAt,
    error: { code: `timeout_${attempt}`, message: 'the model timed out' },
    attempt_count: attempt,
    last_attempt_at: startedAt,
    last_failure_code: `timeout_${attempt}`,
  };
}

// The merge rule alone (no store): once.
it('as a pure rule: rising count with the same terminal status is a cycle; unknown counts fall back to clocks', () => {
  const job = makeJob();
  const a1 = jobToRow(failedAttempt(job, 1, BASE_CREATED + 2, BASE_CREATED + 3));
  const stored = mergeObservation(undefined, a1, T0).next;
  const a2 = jobToRow(failedAttempt(job, 2, BASE_CREATED + 2, BASE_CREATED + 3));
  expect(mergeObservation(stored, a2, T0 - 1).steps.map((s) => s.to)).toEqual([
    'queued',
    'in_progress',
    'failed',
  ]);
  const noCount = jobToRow({
    ...failedAttempt(job, 1, 0, 0),
    attempt_count: undefined,
    started_at: BASE_CREATED + 2,
    completed_at: BASE_CREATED + 3,
  });
  expect(mergeObservation(stored, noCount, T0 - 1).kind).toBe('stale');
  // A job from an upstream without the field keeps what was stored.
  const plan = mergeObservation(stored, noCount, T0 + 1);
  expect(plan.next).toMatchObject({ attemptCount: 1, lastFailureCode: 'timeout_1' });
});

forEachStore((store) => {
  beforeEach(async () => {
    m = await store.open();
  });

  describe('attempt_count', () => {
    it('failed (attempt 1) then failed (attempt 2): failed → queued → in_progress → failed, emitted once', async () => {
      const job = makeJob();
      const first = failedAttempt(job, 1, BASE_CREATED + 2, BASE_CREATED + 3);
      await m.jobs.applyPage([first], { observedAt: T0 });
      // Upstream keeps the first attempt's times on the retried job here: only the count tells them apart.
      const second = {
        ...failedAttempt(job, 2, BASE_CREATED + 2, BASE_CREATED + 3),
        last_attempt_at: BASE_CREATED + 50,
      };
      await m.jobs.applyPage([second], { observedAt: T0 + 60_000 });
      await m.jobs.applyPage([second], { observedAt: T0 + 120_000 }); // seen again: nothing new
      expect(await steps(job.id)).toEqual([
        ['failed', 'queued', true],
        ['queued', 'in_progress', true],
        ['in_progress', 'failed', false],
      ]);
      const row = await jobRow(m, job.id);
      expect(row).toMatchObject({ status: 'failed', attemptCount: 2, lastFailureCode: 'timeout_2' });
      expect(rowToJob(row!)).toMatchObject({ attempt_count: 2, last_attempt_at: BASE_CREATED + 50 });
    });

    it('a rising count means a new attempt started: the implied walk passes queued → in_progress', async () => {
      // Cancelled (attempt 1), then cancelled again (attempt 2): the retry ran before it was cancelled, so it
      // was not cancelled while queued (the shortest walk, which ignores the count).
      const job = makeJob();
      const c1 = {
        ...failedAttempt(job, 1, BASE_CREATED + 2, BASE_CREATED + 3),
        status: 'cancelled',
        error: null,
      };
      await m.jobs.applyPage([c1], { observedAt: T0 });
      const c2 = {
        ...failedAttempt(job, 2, BASE_CREATED + 40, BASE_CREATED + 45),
        status: 'cancelled',
        error: null,
      };
      await m.jobs.applyPage([c2], { observedAt: T0 + 60_000 });
      expect(await steps(job.id)).toEqual([
        ['cancelled', 'queued', true],
        ['queued', 'in_progress', true],
        ['in_progress', 'cancelled', false],
      ]);
      // Failed (attempt 1), then expired (attempt 2), and a queued job (attempt 0) seen cancelled at attempt 1.
      const other = makeJob();
      await m.jobs.applyPage([failedAttempt(other, 1, BASE_CREATED + 2, BASE_CREATED + 3)], {
        observedAt: T0,
      });
      const expired = { ...failedAttempt(other, 2, BASE_CREATED + 40, BASE_CREATED + 45), status: 'expired' };
      await m.jobs.applyPage([expired], { observedAt: T0 + 60_000 });
      expect(await steps(other.id)).toEqual([
        ['failed', 'queued', true],
        ['queued', 'in_progress', true],
        ['in_progress', 'expired', false],
      ]);
      const third = makeJob();
      await m.jobs.applyPage([third], { observedAt: T0 });
      const started = { ...failedAttempt(third, 1, BASE_CREATED + 2, BASE_CREATED + 3), status: 'cancelled' };
      await m.jobs.applyPage([{ ...started, error: null }], { observedAt: T0 + 60_000 });
      expect(await steps(third.id)).toEqual([
        ['queued', 'in_progress', true],
        ['in_progress', 'cancelled', false],
      ]);
    });

    it('the same status and count seen twice is no retry', async () => {
      const job = makeJob();
      const first = failedAttempt(job, 1, BASE_CREATED + 2, BASE_CREATED + 3);
      await m.jobs.applyPage([first], { observedAt: T0 });
      await m.jobs.applyPage([first], { observedAt: T0 + 60_000 });
      expect(await steps(job.id)).toEqual([]);
    });

    it('a higher count is newer even when observed earlier, a lower one is stale even when observed later', async () => {
      const job = makeJob();
      const attempt2 = { ...failedAttempt(job, 2, BASE_CREATED + 40, BASE_CREATED + 45) };
      const attempt1 = failedAttempt(job, 1, BASE_CREATED + 2, BASE_CREATED + 3);
      await m.jobs.applyPage([attempt1], { observedAt: T0 + 60_000 });
      // A page fetched before the stored one (an earlier clock) but showing a later attempt wins.
      await m.jobs.applyPage([attempt2], { observedAt: T0 });
      expect(await jobRow(m, job.id)).toMatchObject({ attemptCount: 2, completedAt: BASE_CREATED + 45 });
      // A later page showing the first attempt again (a lagging replica) changes nothing.
      await m.jobs.applyPage([attempt1], { observedAt: T0 + 120_000 });
      expect(await jobRow(m, job.id)).toMatchObject({ attemptCount: 2, completedAt: BASE_CREATED + 45 });
    });

    it('stats group by last_failure_code and by attempts', async () => {
      const a = makeJob();
      const b = makeJob();
      const retriedThenDone = {
        ...failedAttempt(b, 2, BASE_CREATED + 40, BASE_CREATED + 45),
        status: 'completed',
        error: null,
      };
      await m.jobs.applyPage(
        [failedAttempt(a, 1, BASE_CREATED + 2, BASE_CREATED + 3), retriedThenDone, makeJob()],
        {
          observedAt: T0,
        },
      );
      const byCode = (await m.jobs.stats({ groupBy: 'last_failure_code' })).rows.map((r) => [r.key, r.count]);
      expect(byCode).toEqual(
        expect.arrayContaining([
          ['timeout_1', 1],
          ['timeout_2', 1],
          [null, 1],
        ]),
      );
      const byAttempts = (await m.jobs.stats({ groupBy: 'attempts' })).rows.map((r) => [r.key, r.count]);
      expect(byAttempts).toEqual(
        expect.arrayContaining([
          ['0', 1],
          ['1', 1],
          ['2', 1],
        ]),
      );
    });
  });
});
