import { afterEach, describe, expect, it } from 'vitest';
import { ACTIVE_STATUSES, type Job, JobSchema, TERMINAL_STATUSES } from '../../src/retab/schemas.ts';
import {
  type LifecycleRates,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../src/simulator/index.ts';
import { list } from './http.ts';

// Job evolution under the manual clock (and one realtime check), through the store and over HTTP.
const NOW = Date.parse('2026-11-01T12:00:00Z');
const QUIET: Partial<LifecycleRates> = {
  arrivalsPerMinute: 0,
  retriesPerMinute: 0,
  cancelRate: 0,
  failureRate: 0,
  stuckRate: 0,
};
const open: Simulator[] = [];

async function sim(opts: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ seed: 21, jobs: 300, days: 10, now: NOW, ...opts });
  open.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** Advances in `stepMs` steps for `totalMs`, collecting the distinct statuses a job went through. */
function follow(s: Simulator, id: string, totalMs: number, stepMs = 250): string[] {
  const seen = [s.store.get(id)?.status as string];
  for (let t = 0; t < totalMs; t += stepMs) {
    s.clock.advance(stepMs);
    const status = s.store.get(id)?.status as string;
    if (status !== seen.at(-1)) seen.push(status);
  }
  return seen;
}

function expectConsistent(job: Job, nowSec: number) {
  expect(JobSchema.safeParse(job).success).toBe(true);
  expect(job.expires_at).toBe(job.created_at + 7 * 86_400);
  if (job.started_at != null) expect(job.started_at).toBeGreaterThanOrEqual(job.created_at);
  if (job.completed_at != null)
    expect(job.completed_at).toBeGreaterThanOrEqual(job.started_at ?? job.created_at);
  expect(Math.max(job.created_at, job.started_at ?? 0, job.completed_at ?? 0)).toBeLessThanOrEqual(nowSec);
  const terminal = (TERMINAL_STATUSES as readonly string[]).includes(job.status);
  expect(job.completed_at != null).toBe(terminal);
  if (job.status === 'in_progress') expect(job.started_at).not.toBeNull();
  if (job.status === 'validating' || job.status === 'queued') expect(job.started_at).toBeNull();
  expect(job.error != null).toBe(job.status === 'failed');
  expect(job.response != null).toBe(job.status === 'completed');
}

describe('lifecycle under the manual clock', () => {
  it('validating → queued → in_progress → completed, with started_at and completed_at set on the way', async () => {
    const s = await sim({ rates: QUIET });
    const job = s.store.create({
      endpoint: '/v1/documents/extract',
      request: { document: { filename: 'x.pdf' } },
    });
    expect(follow(s, job.id, 10 * 60_000)).toEqual(['validating', 'queued', 'in_progress', 'completed']);
    const done = s.store.get(job.id) as Job;
    expect(done.created_at).toBe(job.created_at);
    expectConsistent(done, Math.floor(s.clock.now() / 1000));
    expect(done.started_at).toBeGreaterThan(done.created_at);
  });

  it('time stands still without advance()', async () => {
    const s = await sim({ rates: { arrivalsPerMinute: 600 } });
    const before = s.store.all();
    await new Promise((r) => setTimeout(r, 300));
    expect(s.clock.now()).toBe(NOW);
    expect(s.store.all()).toEqual(before);
  });

  it('failures carry an error; cancellations come from queued or in_progress', async () => {
    const failing = await sim({ rates: { ...QUIET, failureRate: 1 } });
    const f = failing.store.create({ endpoint: '/v1/documents/parse', request: {} });
    expect(follow(failing, f.id, 10 * 60_000)).toEqual(['validating', 'queued', 'in_progress', 'failed']);
    const failed = failing.store.get(f.id) as Job;
    expect(failed.error).toEqual({ code: expect.any(String), message: expect.any(String) });
    expect(failed.response).toBeNull();

    const cancelling = await sim({ rates: { ...QUIET, cancelRate: 1 } });
    const created = Array.from({ length: 10 }, () =>
      cancelling.store.create({ endpoint: '/v1/documents/parse', request: {} }),
    );
    cancelling.clock.advance(10 * 60_000);
    const ends = created.map((j) => cancelling.store.get(j.id) as Job);
    expect(new Set(ends.map((j) => j.status))).toEqual(new Set(['cancelled']));
    expect(ends.some((j) => j.started_at === null)).toBe(true);
    expect(ends.some((j) => j.started_at !== null)).toBe(true);
  });

  it('retry puts a failed or expired job back to queued with the same id and created_at, then it runs again', async () => {
    const s = await sim({ rates: QUIET });
    for (const status of ['failed', 'expired'] as const) {
      const old = s.store.all().find((j) => j.status === status) as Job;
      const retried = s.store.retry(old.id);
      expect(retried).toMatchObject({
        id: old.id,
        created_at: old.created_at,
        status: 'queued',
        started_at: null,
      });
      // The retried job shows up in the in-flight listing although it is old.
      const queued = await list(s, { status: 'queued', limit: 100 });
      expect(queued.data.map((j) => j.id)).toContain(old.id);
      expect(follow(s, old.id, 10 * 60_000)).toEqual(['queued', 'in_progress', 'completed']);
      expectConsistent(s.store.get(old.id) as Job, Math.floor(s.clock.now() / 1000));
    }
  });

  it('a job still in flight at expires_at expires, with completed_at = expires_at', async () => {
    const s = await sim({ rates: { ...QUIET, stuckRate: 1 } });
    const job = s.store.create({ endpoint: '/v1/documents/extract', request: {} });
    s.clock.advance(7 * 86_400_000 - 2_000);
    expect(s.store.get(job.id)?.status).toBe('queued');
    s.clock.advance(4_000);
    const expired = s.store.get(job.id) as Job;
    expect(expired.status).toBe('expired');
    expect(expired.completed_at).toBe(expired.expires_at);
    expectConsistent(expired, Math.floor(s.clock.now() / 1000));
  });

  it('new jobs arrive at the current time, in bursts sharing a second, with unique ids', async () => {
    const s = await sim({ rates: { ...QUIET, arrivalsPerMinute: 120 } });
    const startSec = NOW / 1000;
    const before = s.store.size;
    s.clock.advance(5 * 60_000);
    const fresh = s.store.all().filter((j) => j.created_at >= startSec);
    expect(s.store.size - before).toBe(fresh.length);
    expect(fresh.length).toBeGreaterThan(400);
    expect(fresh.length).toBeLessThan(900);
    expect(new Set(fresh.map((j) => j.id)).size).toBe(fresh.length);
    expect(new Set(fresh.map((j) => j.created_at)).size).toBeLessThan(fresh.length);
    for (const j of fresh) expect(j.created_at).toBeLessThanOrEqual(startSec + 300);
    const newest = await list(s, { limit: 5 });
    expect(newest.data[0]?.id).toBe(
      fresh.sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1))[0]?.id,
    );
  });

  it('terminal jobs get retried by the simulation itself', async () => {
    const s = await sim({ jobs: 2000, rates: { ...QUIET, retriesPerMinute: 30 } });
    const terminal = s.store.all().filter((j) => ['failed', 'cancelled', 'expired'].includes(j.status));
    s.clock.advance(2 * 60_000);
    const moved = terminal.filter((j) => s.store.get(j.id)?.status !== j.status);
    expect(moved.length).toBeGreaterThan(20);
    for (const j of moved) expect(s.store.get(j.id)?.created_at).toBe(j.created_at);
  });

  it('every job stays consistent through an hour of default-rate evolution', async () => {
    const s = await sim({ jobs: 1000 });
    for (let i = 0; i < 12; i++) s.clock.advance(5 * 60_000);
    const nowSec = Math.floor(s.clock.now() / 1000);
    const all = s.store.all();
    for (const j of all) expectConsistent(j, nowSec);
    const statuses = new Set(all.map((j) => j.status));
    // `validating` lasts ~2 s, so it is not always caught at a given instant; the others are.
    for (const st of [...ACTIVE_STATUSES.slice(1), ...TERMINAL_STATUSES]) expect(statuses).toContain(st);
  });

  it('is deterministic: same seed and advances, same history, however the advances are split', async () => {
    const a = await sim({ jobs: 500 });
    const b = await sim({ jobs: 500 });
    const c = await sim({ jobs: 500, seed: 22 });
    a.clock.advance(20 * 60_000);
    for (let i = 0; i < 80; i++) b.clock.advance(15_000);
    c.clock.advance(20 * 60_000);
    expect(b.store.all()).toEqual(a.store.all());
    expect(c.store.all()).not.toEqual(a.store.all());
  });

  it('POST /_sim/advance moves the clock over HTTP', async () => {
    const s = await sim({ rates: QUIET });
    const base = s.url.replace(/\/v1$/, '');
    const r = await fetch(`${base}/_sim/advance`, { method: 'POST', body: JSON.stringify({ ms: 90_000 }) });
    expect(await r.json()).toEqual({ now: NOW + 90_000 });
    expect(s.clock.now()).toBe(NOW + 90_000);
    expect(await (await fetch(`${base}/_sim/clock`)).json()).toEqual({ now: NOW + 90_000, mode: 'manual' });
  });
});

describe('realtime clock', () => {
  it('ticks by itself so jobs move without advance(), and freeze() stops it', async () => {
    const s = await sim({
      clock: 'realtime',
      now: undefined,
      rates: { arrivalsPerMinute: 3000 },
      tickMs: 50,
    });
    const size = s.store.size;
    const t0 = s.clock.now();
    for (let i = 0; i < 100 && s.store.size === size; i++) await new Promise((r) => setTimeout(r, 50));
    expect(s.store.size).toBeGreaterThan(size);
    expect(s.clock.now()).toBeGreaterThan(t0);
    s.clock.freeze();
    const frozen = s.clock.now();
    await new Promise((r) => setTimeout(r, 200));
    expect(s.clock.now()).toBe(frozen);
    expect(s.clock.mode).toBe('manual');
  });
});
