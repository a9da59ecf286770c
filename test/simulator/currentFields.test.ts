import { afterEach, describe, expect, it } from 'vitest';
import { CURRENT_ENDPOINTS, type Job, JobSchema } from '../../src/retab/schemas.ts';
import { generateJobs } from '../../src/simulator/generate.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { toJob } from '../../src/simulator/simJob.ts';

const NOW = Date.parse('2026-11-01T12:00:00Z');
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('the simulator and the Job fields of May 2026', () => {
  it('generates jobs named with the current endpoint family, every name of it, with the same mix', () => {
    const current = generateJobs(3, 3000, 14, NOW, 'current');
    const legacy = generateJobs(3, 3000, 14, NOW, 'legacy');
    expect(new Set(current.map((j) => j.endpoint))).toEqual(new Set(CURRENT_ENDPOINTS));
    // Only the names differ: same ids, same statuses.
    expect(current.map((j) => [j.id, j.status])).toEqual(legacy.map((j) => [j.id, j.status]));
  });

  it('every job carries the new fields, consistent with its lifecycle', () => {
    const jobs = generateJobs(5, 3000, 14, NOW).map((r) =>
      toJob(r, 'org_x', { includeRequest: false, includeResponse: false }),
    );
    for (const j of jobs) expect(JobSchema.safeParse(j).success).toBe(true);
    for (const j of jobs) {
      expect(j.attempt_count).toBe(j.started_at == null ? 0 : 1);
      expect(j.last_attempt_at ?? null).toBe(j.started_at ?? null);
      if (j.status === 'failed') expect(j.last_failure_code).toBe(j.error?.code);
      expect(j.cancelled).toBe(j.status === 'cancelled');
    }
    expect(jobs.some((j) => (j.warnings?.length ?? 0) > 0)).toBe(true);
  });

  it('a retry keeps the last failure code; the next attempt counts one more', async () => {
    sim = await startSimulator({
      seed: 8,
      jobs: 500,
      now: NOW,
      rates: { arrivalsPerMinute: 0, retriesPerMinute: 0, stuckRate: 0, cancelRate: 0 },
    });
    const failed = sim.store.all().find((j) => j.status === 'failed') as Job;
    expect(failed.attempt_count).toBe(1);
    const queued = sim.store.retry(failed.id);
    expect(queued).toMatchObject({
      status: 'queued',
      attempt_count: 1,
      last_failure_code: failed.last_failure_code,
    });
    sim.clock.advance(3_600_000);
    const after = sim.store.get(failed.id) as Job;
    expect(['completed', 'failed']).toContain(after.status);
    expect(after.attempt_count).toBe(2);
    expect(after.last_attempt_at).toBe(after.started_at);
  });

  it('a job cancelled on purpose says so', async () => {
    sim = await startSimulator({ seed: 8, jobs: 500, now: NOW, rates: { arrivalsPerMinute: 0 } });
    const queued = sim.store.all().find((j) => j.status === 'queued') as Job;
    expect(sim.store.cancel(queued.id)).toMatchObject({ status: 'cancelled', cancelled: true });
  });
});
