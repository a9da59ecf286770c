/**
 * The mirror converges to the upstream truth: rounds of simulated time (arrivals, transitions,
 * cancellations, retries, expiries) each followed by head + active, then one reconcile, leave the mirror equal
 * to the simulator's ground truth, with exactly one event per observed transition and a continuous chain.
 */
import { afterEach, expect, it } from 'vitest';
import { ENDPOINTS } from '../../src/retab/schemas.ts';
import { reconcileDays, runActive, runHead, runWindow } from '../../src/sync/index.ts';
import { forEachStore } from '../stores.ts';
import { ACTIVE, byId, comparable, HEAD, type StoreWorld, storedJobs, storeWorld } from './helpers.ts';

let w: StoreWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** A small seeded generator, so a failure replays identically. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function attempt(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // The job changed state since the mirror saw it: upstream refuses, as it would for a user.
  }
}

interface EventRow {
  jobId: string;
  type: string;
  from: string | null;
  to: string | null;
  occurredAt: number;
}

forEachStore((store) => {
  it('head + active over 30 rounds, then reconcile: the mirror equals the ground truth', async () => {
    w = await storeWorld(store, {
      jobs: 1500,
      days: 7,
      rates: { retriesPerMinute: 2, arrivalsPerMinute: 20 },
    });
    const { sim, deps, mirror } = w;
    const rand = rng(42);
    const pick = <T>(list: T[]): T | undefined => list[Math.floor(rand() * list.length)];

    for (let round = 0; round < 30; round++) {
      sim.clock.advance(10_000 + Math.floor(rand() * 590_000));
      for (let i = Math.floor(rand() * 3); i > 0; i--) {
        sim.store.create({
          endpoint: pick([...ENDPOINTS]) ?? '/v1/documents/extract',
          request: {
            document: { filename: `round-${round}-${i}.pdf`, url: 'https://x/y.pdf' },
            model: 'gpt-4.1',
          },
          metadata: { round: String(round) },
        });
      }
      // Candidates from the mirror (cheap); upstream refuses the ones that moved on meanwhile (409/400).
      const ids = async (statuses: string[]) =>
        (await storedJobs(mirror, { include_request: false }))
          .filter((j) => statuses.includes(j.status))
          .map((j) => j.id)
          .reverse();
      const cancel = pick(await ids(['validating', 'queued', 'in_progress']));
      if (cancel && rand() < 0.5) attempt(() => sim.store.cancel(cancel));
      const retry = pick(await ids(['failed', 'cancelled', 'expired']));
      if (retry && rand() < 0.7) attempt(() => sim.store.retry(retry));
      expect((await runHead(deps, HEAD)).outcome).toBe('success');
      expect((await runActive(deps, { ...ACTIVE, statuses: [...ACTIVE.statuses] })).outcome).toBe('success');
    }
    for (const day of reconcileDays(sim.clock.now())) {
      const r = await runWindow(deps, { day, pageSize: 100, payloadMode: 'request', restart: true });
      expect(r.outcome).toBe('success');
    }

    const truth = sim.store.all().map(comparable);
    const mirrored = byId((await storedJobs(mirror)).map(comparable));
    expect(mirrored.size).toBe(truth.length);
    const diffs = truth.filter((t) => JSON.stringify(mirrored.get(t.id)) !== JSON.stringify(t));
    expect(diffs.map((t) => ({ truth: t, mirror: mirrored.get(t.id) })).slice(0, 3)).toEqual([]);

    const events: EventRow[] = (await mirror.outbox.after(0, 1_000_000, {
      types: ['job.discovered', 'job.status_changed'],
    })) as EventRow[];
    const changes = events.filter((e) => e.type === 'job.status_changed');
    expect(changes.length).toBeGreaterThan(100);
    const keys = changes.map((e) => `${e.jobId}|${e.to}|${e.occurredAt}`);
    expect(keys.length - new Set(keys).size).toBe(0);
    const last = new Map<string, string | null>();
    const breaks: EventRow[] = [];
    for (const e of events) {
      if (e.type === 'job.discovered') {
        expect(last.has(e.jobId)).toBe(false);
      } else if (last.get(e.jobId) !== e.from) {
        breaks.push(e);
      }
      last.set(e.jobId, e.to);
    }
    expect(breaks).toEqual([]);
    // Every job's chain ends at its mirrored status.
    for (const [id, status] of last) expect(status).toBe(mirrored.get(id)?.status);
  });
});
