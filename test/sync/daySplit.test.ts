/**
 * A dense day swept from both ends at once (src/sync/daySplit.ts): the walk from the start and the walk from
 * the end, sharing their claims through real Redis (src/fleet/daySplit.ts), each with its own mirror handle
 * (two processes' view of one PostgreSQL mirror; one handle for SQLite, as in one worker), mirror every job
 * of the day exactly once: the mirror equals upstream, each job has one `job.discovered` event, and the two
 * walks together wrote each job once. Most of the day's jobs share one created_at second, so the meeting
 * point always falls inside a group of equal timestamps. A sparse day is not split: no claim, no tail, and
 * the same requests as a window without a split.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { redisDaySplit } from '../../src/fleet/index.ts';
import { silentLogger } from '../../src/log.ts';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { dayBounds } from '../../src/retab/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import {
  comparePositions,
  type DaySplit,
  owns,
  positionOf,
  type RunSummary,
  runWindow,
  type SyncDeps,
  type WindowOptions,
} from '../../src/sync/index.ts';
import { dropPrefix } from '../queue/helpers.ts';
import { forEachStore } from '../stores.ts';

const DAY = '2026-11-10';
/** Late on DAY, so that a few minutes later (the walks' clock) the day is closed. */
const AT = Date.parse(`${DAY}T23:58:00Z`);
const PAGE = 20;

const redisUrl = inject('redisUrl');
let redis: Redis;
const prefix = `test-split-${randomUUID()}`;

beforeAll(async () => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  redis.disconnect();
  await dropPrefix(redisUrl, prefix);
});

/** A simulator whose DAY holds `ties` jobs at one second, between `around` jobs the second before and after. */
async function denseDay(ties: number, around: number, latencyMs = 2): Promise<Simulator> {
  const sim = await startSimulator({ seed: 7, jobs: 0, now: AT, rates: { arrivalsPerMinute: 0 }, latencyMs });
  const post = (n: number) => {
    for (let i = 0; i < n; i++)
      sim.store.create({
        endpoint: '/v1/documents/extract',
        request: { document: { filename: `f${i}.pdf` } },
      });
  };
  post(around);
  sim.clock.advance(1000);
  post(ties);
  sim.clock.advance(1000);
  post(around);
  // Past midnight: the day is closed (only a closed day is split).
  sim.clock.advance(3 * 60_000);
  return sim;
}

function depsOf(sim: Simulator, mirror: MirrorStore): SyncDeps {
  const client = createRetabClient({
    apiKey: sim.apiKey,
    baseUrl: sim.url,
    maxRetries: 2,
    minRetryDelayMs: 5,
    maxRetryDelayMs: 20,
  });
  return { client, mirror, logger: silentLogger, now: () => sim.clock.now() };
}

const OPTS: WindowOptions = { day: DAY, pageSize: PAGE, payloadMode: 'request', backfill: true };

function dayIds(sim: Simulator): string[] {
  const { start, end } = dayBounds(DAY);
  return sim.store
    .all()
    .filter((j) => j.created_at >= start && j.created_at < end)
    .map((j) => j.id);
}

async function discoveredPerJob(mirror: MirrorStore): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let seq = 0; ; ) {
    const batch = await mirror.outbox.after(seq, 1000);
    if (batch.length === 0) return out;
    for (const e of batch) {
      if (e.type === 'job.discovered') out.set(e.jobId, (out.get(e.jobId) ?? 0) + 1);
      seq = e.seq;
    }
  }
}

async function mirroredIds(mirror: MirrorStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const j of mirror.jobs.iterate({})) ids.push(j.id);
  return ids;
}

describe('claims (Redis)', () => {
  it('fix one meeting point; ties on created_at are told apart by id, as upstream orders them', async () => {
    const split = redisDaySplit(redis, {
      prefix,
      partition: `window:unit-${randomUUID()}`,
      queueTail: async () => {},
    });
    const t = 1_762_819_200;
    const p = (id: string) => positionOf({ created_at: t, id });
    expect(await split.claim('asc', p('job_A'))).toBeUndefined();
    expect(await split.claim('desc', p('job_z'))).toBeUndefined();
    expect(await split.claim('desc', p('job_M'))).toBeUndefined();
    // The walk from the start reaches job_M's position: met there, job_M stays the desc walk's.
    const met = await split.claim('asc', p('job_Q'));
    expect(met).toEqual({ by: 'asc', at: p('job_M') });
    if (!met) return;
    expect(owns('asc', p('job_L'), met)).toBe(true);
    expect(owns('asc', p('job_M'), met)).toBe(false);
    expect(owns('desc', p('job_M'), met)).toBe(true);
    // Fixed: later claims from either side get the same answer and change nothing.
    expect(await split.claim('desc', p('job_B'))).toEqual(met);
    expect(await split.claim('asc', p('job_z'))).toEqual(met);
    // Byte order, as the simulator's `a.id < b.id` (upper case before lower case, `-` and `_` by code unit).
    expect(comparePositions(p('job_Z'), p('job_a'))).toBe(-1);
    expect(
      comparePositions(
        positionOf({ created_at: 9, id: 'job_z' }),
        positionOf({ created_at: 10, id: 'job_A' }),
      ),
    ).toBe(-1);
  });

  it('met by the walk from the end: the boundary job is the start walk’s', async () => {
    const split = redisDaySplit(redis, {
      prefix,
      partition: `window:unit-${randomUUID()}`,
      queueTail: async () => {},
    });
    const p = (id: string) => positionOf({ created_at: 5, id });
    await split.claim('asc', p('job_K'));
    const met = await split.claim('desc', p('job_C'));
    expect(met).toEqual({ by: 'desc', at: p('job_K') });
    if (!met) return;
    expect(owns('asc', p('job_K'), met)).toBe(true);
    expect(owns('desc', p('job_K'), met)).toBe(false);
    expect(owns('desc', p('job_L'), met)).toBe(true);
  });
});

forEachStore((store) => {
  it('a dense day walked from both ends by two concurrent tasks: every job once, one discovered event each', async () => {
    const sim = await denseDay(900, 40);
    try {
      const location = await store.location();
      const a = await store.reopen(location);
      // PostgreSQL: the second walker is another process's handle; SQLite: one worker, one handle.
      const b = store.kind === 'postgres' ? await store.reopen(location) : a;
      let tail: Promise<RunSummary> | undefined;
      let tails = 0;
      const partition = `window:${DAY}:${randomUUID()}`;
      const splitOf = (): DaySplit =>
        redisDaySplit(redis, {
          prefix,
          partition,
          queueTail: async () => {
            tails++;
            // Another worker picks the tail job up.
            tail ??= runWindow(depsOf(sim, b), { ...OPTS, from: 'end' }, splitOf());
          },
        });
      const head = await runWindow(depsOf(sim, a), OPTS, splitOf());
      expect(tail).toBeDefined();
      const end = (await tail) as RunSummary;

      const upstream = dayIds(sim);
      expect(upstream.length).toBe(980);
      const mirrored = await mirroredIds(a);
      expect(new Set(mirrored)).toEqual(new Set(upstream));
      expect(mirrored.length).toBe(upstream.length);
      // Each job written by exactly one of the walks, and both did a real share.
      expect(head.jobs + end.jobs).toBe(upstream.length);
      expect(end.jobs).toBeGreaterThan(100);
      expect(head.jobs).toBeGreaterThan(100);
      expect(tails).toBe(1);
      const discovered = await discoveredPerJob(a);
      expect(discovered.size).toBe(upstream.length);
      expect([...discovered.values()].every((n) => n === 1)).toBe(true);
      // The meeting point lies inside the 900 jobs sharing one second.
      const state = await redis.hgetall(`${prefix}:fleet:split:${partition}`);
      expect(state.at?.slice(0, 13)).toBe(String(Math.floor(AT / 1000) + 1).padStart(13, '0'));
      for (const p of [`window:${DAY}`, `window:${DAY}:desc`])
        expect((await a.syncState.get(p))?.status).toBe('done');
      // Requests: the day's pages once, plus at most two pages past the meeting point per walk (the page whose
      // claim met, claimed without holding up the next request, and that next one), and one more where the
      // meeting falls on a page boundary.
      expect(head.requests + end.requests).toBeLessThanOrEqual(Math.ceil(980 / PAGE) + 5);
    } finally {
      await sim.close();
    }
  });

  it('a walk killed between its claim and its write finishes its claimed positions when it runs again', async () => {
    const sim = await denseDay(500, 20);
    try {
      const mirror = await store.open();
      const real = redisDaySplit(redis, {
        prefix,
        partition: `window:${DAY}:${randomUUID()}`,
        queueTail: async () => {},
      });
      // The walk from the end dies as it writes its second batch: after the claim (pages are claimed as they
      // arrive, and the write claims its batch again), before the transaction.
      const seen = new Set<string>();
      const dying: DaySplit = {
        queueTail: real.queueTail,
        claim: async (side, position) => {
          const r = await real.claim(side, position);
          if (seen.has(position)) throw new Error('killed between a claim and its write');
          seen.add(position);
          return r;
        },
      };
      await expect(runWindow(depsOf(sim, mirror), { ...OPTS, from: 'end' }, dying)).rejects.toThrow(/killed/);
      const first = await runWindow(depsOf(sim, mirror), OPTS, real);
      expect((await mirror.syncState.get(`window:${DAY}`))?.status).toBe('done');
      // The walk from the start stopped at the claim: the positions claimed but not written are the tail's.
      expect(first.jobs).toBeLessThan(540);
      const again = await runWindow(depsOf(sim, mirror), { ...OPTS, from: 'end' }, real);
      expect(again.jobs).toBeGreaterThanOrEqual(100); // its second batch, claimed and never written
      const ids = await mirroredIds(mirror);
      expect(new Set(ids)).toEqual(new Set(dayIds(sim)));
      expect(ids).toHaveLength(540);
      const discovered = await discoveredPerJob(mirror);
      expect([...discovered.values()].every((n) => n === 1)).toBe(true);
      expect(discovered.size).toBe(540);
    } finally {
      await sim.close();
    }
  });

  it('a tail that starts after the start walk finished the day alone writes nothing', async () => {
    const sim = await denseDay(300, 20);
    try {
      const mirror = await store.open();
      const partition = `window:${DAY}:${randomUUID()}`;
      let tails = 0;
      const split = redisDaySplit(redis, {
        prefix,
        partition,
        queueTail: async () => {
          tails++;
        },
      });
      const head = await runWindow(depsOf(sim, mirror), OPTS, split);
      expect(tails).toBe(1);
      expect(head.jobs).toBe(340);
      const end = await runWindow(depsOf(sim, mirror), { ...OPTS, from: 'end' }, split);
      expect(end.jobs).toBe(0);
      expect(end.requests).toBe(0);
      expect((await mirror.syncState.get(`window:${DAY}:desc`))?.status).toBe('done');
    } finally {
      await sim.close();
    }
  });

  it('a sparse day is not split: no claim, no tail, the same requests as without a split', async () => {
    const sim = await denseDay(60, 10);
    try {
      const claims: string[] = [];
      let tails = 0;
      const spy: DaySplit = {
        queueTail: async () => {
          tails++;
        },
        claim: async (side) => {
          claims.push(side);
          return undefined;
        },
      };
      const split = await runWindow(depsOf(sim, await store.open()), OPTS, spy);
      const alone = await runWindow(depsOf(sim, await store.open()), OPTS);
      expect(split.jobs).toBe(80);
      expect(tails).toBe(0);
      expect(claims).toEqual([]);
      expect(split.requests).toBe(alone.requests);
      expect(split.requests).toBe(Math.ceil(80 / PAGE));
    } finally {
      await sim.close();
    }
  });
});
