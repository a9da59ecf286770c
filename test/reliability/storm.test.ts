/**
 * Fault storms: the same sync (two passes with upstream moving in between) runs twice on twin simulators
 * (same seed, same data, same evolution), once clean and once under 30% 5xx, 10% 429 with Retry-After,
 * resets and 2 s stalls together. The stormy run must converge to the same mirror and the same events,
 * never retry before a Retry-After has passed, and pay for the storm with nothing but retries of the
 * failed attempts.
 *
 * The cost bound, honestly: each failing draw costs exactly one extra attempt, so with a failure
 * probability q per attempt a request needs 1/(1−q) attempts on average. Here q = 0.20 + 0.05 + 0.05 (5xx)
 * + 0.10 (429) + 0.05 (reset) = 0.45 (a stall answers, it only delays), so the expected ratio is
 * 1/0.55 ≈ 1.82: "within 2× the fault-free run" holds on average but not with certainty on a small run
 * (a run of ~50 requests exceeds 2× about one time in six). What the code controls, and what is asserted
 * exactly, is that no attempt is wasted: attempts − failed attempts = the fault-free run's attempts. The
 * 2× bound is asserted too; it holds for this seed (the fault draws are seeded, so the count is
 * reproducible).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { type Mirror, openMirror } from '../../src/mirror/openMirror.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { ACTIVE_STATUSES } from '../../src/retab/schemas.ts';
import type { FaultConfig, RequestRecord, Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { lastDays } from '../../src/sync/partitions.ts';
import { type SyncOnceOptions, syncOnce } from '../../src/sync/syncOnce.ts';
import { integrity, outboxProblems, query, type TempDir, tempDir, truthDiff } from './helpers.ts';

const SEED = 4242;
const SIM_NOW = Date.parse('2026-11-01T12:00:00Z');

const STORM: FaultConfig = {
  probabilities: { http500: 0.2, http502: 0.05, http503: 0.05, http429: 0.1, reset: 0.05, slow: 0.05 },
  retryAfterSeconds: 1,
  slowMs: 2000,
};
const FAILING = new Set(['http500', 'http502', 'http503', 'http429', 'reset']);

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface RunResult {
  sim: Simulator;
  tmp: TempDir;
  requests: RequestRecord[];
  outcomes: string[];
}

/** Two passes (history windows + head + active + hydrate; then upstream moves; then a reconcile pass). */
async function twoPasses(faults?: FaultConfig): Promise<RunResult> {
  const sim = await startSimulator({
    seed: SEED,
    jobs: 250,
    days: 2,
    now: SIM_NOW,
    ...(faults ? { faults } : {}),
  });
  const tmp = tempDir();
  const mirror: Mirror = openMirror(tmp.dbPath);
  cleanup.push(
    () => sim.close(),
    () => tmp.cleanup(),
    () => mirror.close(),
  );
  const client = createRetabClient({
    apiKey: sim.apiKey,
    baseUrl: sim.url,
    // Generous retries, short backoff: the storm must be survivable, and the test fast.
    maxRetries: 12,
    minRetryDelayMs: 20,
    maxRetryDelayMs: 200,
    timeoutMs: 10_000,
  });
  const deps = { client, mirror, logger: createLogger({ level: 'silent' }), now: () => sim.clock.now() };
  const opts: SyncOnceOptions = {
    pageSize: 20,
    payloadMode: 'request',
    overlapSeconds: 300,
    backfillDays: 3,
    activeStatuses: [...ACTIVE_STATUSES],
    windowDays: lastDays(SIM_NOW, 2),
  };
  const first = await syncOnce(deps, opts);
  sim.clock.advance(90_000);
  const second = await syncOnce(deps, { ...opts, reconcile: true });
  return {
    sim,
    tmp,
    requests: [...sim.stats.requests],
    outcomes: [first.outcome, second.outcome, first.error ?? '', second.error ?? ''],
  };
}

/** Requests that came back before the Retry-After their key was told to wait had passed. */
function earlyRetries(requests: RequestRecord[], retryAfterMs: number): string[] {
  const until = new Map<string, number>();
  const early: string[] = [];
  const key = (r: RequestRecord) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`;
  for (const r of requests) {
    const wait = until.get(key(r));
    // 5 ms: timers may fire a hair early; the simulator's own check uses the same tolerance.
    if (wait !== undefined && r.at < wait - 5) early.push(`${key(r)} at +${r.at - (wait - retryAfterMs)} ms`);
    // The simulator sends Retry-After with its 429s (its 503s carry none: backoff applies to them).
    if (r.fault === 'http429') until.set(key(r), r.at + retryAfterMs);
  }
  return early;
}

describe('fault storm', () => {
  it('converges to the fault-free result, honours Retry-After, and wastes no attempt', async () => {
    const calm = await twoPasses();
    const storm = await twoPasses(STORM);

    // Converged: both mirrors equal upstream (the twins evolved identically), with the same events.
    expect(calm.outcomes).toEqual(['success', 'success', '', '']);
    expect(storm.outcomes).toEqual(['success', 'success', '', '']);
    expect(truthDiff(storm.sim, storm.tmp.dbPath)).toEqual([]);
    expect(truthDiff(calm.sim, calm.tmp.dbPath)).toEqual([]);
    expect(outboxProblems(storm.tmp.dbPath)).toEqual([]);
    expect(integrity(storm.tmp.dbPath)).toEqual(['ok']);
    const ids = (r: RunResult) =>
      query<{ event_id: string }>(r.tmp.dbPath, 'SELECT event_id FROM job_events ORDER BY event_id').map(
        (e) => e.event_id,
      );
    expect(ids(storm)).toEqual(ids(calm));

    // The storm really happened: every kind of fault was served.
    const kinds = new Set(storm.requests.map((r) => r.fault).filter(Boolean));
    for (const k of ['http500', 'http502', 'http503', 'http429', 'reset', 'slow']) expect(kinds).toContain(k);

    // Never early after a Retry-After: the simulator's flag and our own arithmetic on arrival times.
    expect(storm.requests.filter((r) => r.earlyRetry)).toEqual([]);
    expect(earlyRetries(storm.requests, 1000)).toEqual([]);

    // Cost: every extra attempt is a retry of a failed one, nothing else.
    const failed = storm.requests.filter((r) => r.fault !== undefined && FAILING.has(r.fault)).length;
    const cost = `storm: ${storm.requests.length} attempts (${failed} failed); calm: ${calm.requests.length}`;
    expect(storm.requests.length - failed, cost).toBe(calm.requests.length);
    expect(storm.requests.length, cost).toBeLessThanOrEqual(2 * calm.requests.length);
  });
});
