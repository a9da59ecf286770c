/**
 * Shared set-up of the sync tests: a simulator on loopback, a real client, a fresh mirror per test (an SQLite
 * file; `storeWorld`: any store of test/stores.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log.ts';
import { type IterateParams, type MirrorStore, openStore } from '../../src/mirror/index.ts';
import { type Mirror, openMirror } from '../../src/mirror/openMirror.ts';
import { rowToJob } from '../../src/mirror/rowToJob.ts';
import { jobs } from '../../src/mirror/schema.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import type { RetabClient } from '../../src/retab/clientTypes.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/index.ts';
import type { HeadOptions, SyncDeps } from '../../src/sync/index.ts';
import type { StoreUnderTest } from '../stores.ts';

export const START = Date.parse('2026-11-01T12:00:00Z');

export const HEAD: HeadOptions = {
  pageSize: 100,
  payloadMode: 'request',
  overlapSeconds: 300,
  backfillDays: 30,
};
export const ACTIVE = { statuses: ['validating', 'queued', 'in_progress'] as const, pageSize: 100 };

export interface World {
  sim: Simulator;
  client: RetabClient;
  mirror: Mirror;
  dir: string;
  deps: SyncDeps;
  close(): Promise<void>;
}

async function simulatorAndClient(sim: SimulatorOptions): Promise<{ s: Simulator; client: RetabClient }> {
  const s = await startSimulator({ seed: 1, now: START, ...sim });
  const client = createRetabClient({
    apiKey: s.apiKey,
    baseUrl: s.url,
    maxRetries: 2,
    minRetryDelayMs: 5,
    maxRetryDelayMs: 20,
  });
  return { s, client };
}

export async function world(sim: SimulatorOptions, deps: Partial<SyncDeps> = {}): Promise<World> {
  const { s, client } = await simulatorAndClient(sim);
  const dir = mkdtempSync(join(tmpdir(), 'retab-sync-'));
  const mirror = openMirror(join(dir, 'mirror.db'));
  return {
    sim: s,
    client,
    mirror,
    dir,
    deps: { client, mirror, logger: silentLogger, now: () => s.clock.now(), ...deps },
    async close() {
      mirror.close();
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A world over any store (test/stores.ts): the mirror is only the seam, as every consumer sees it. */
export interface StoreWorld extends Omit<World, 'mirror' | 'dir'> {
  mirror: MirrorStore;
  /** Where the mirror lives (a file path or a database URL), for another process to open it. */
  location: string;
}

export interface StoreWorldOptions {
  /**
   * Open the mirror for the whole file (a `beforeAll` world its tests share): not through `store.reopen`,
   * whose stores are closed after each test, but directly; `close()` then closes it too.
   */
  shared?: boolean;
}

export async function storeWorld(
  store: StoreUnderTest,
  sim: SimulatorOptions,
  deps: Partial<SyncDeps> = {},
  opts: StoreWorldOptions = {},
): Promise<StoreWorld> {
  const { s, client } = await simulatorAndClient(sim);
  const location = await store.location();
  const mirror = opts.shared ? await openStore(location) : await store.reopen(location);
  return {
    sim: s,
    client,
    mirror,
    location,
    deps: { client, mirror, logger: silentLogger, now: () => s.clock.now(), ...deps },
    async close() {
      await s.close();
      if (opts.shared) await mirror.close();
    },
  };
}

/** Every mirrored job with its request, through the seam (any store). */
export async function storedJobs(mirror: MirrorStore, filters: IterateParams = {}): Promise<Job[]> {
  const out: Job[] = [];
  for await (const j of mirror.jobs.iterate({ include_request: true, ...filters })) out.push(j);
  return out;
}

export function mirroredJobs(mirror: Mirror): Job[] {
  return mirror.db
    .select()
    .from(jobs)
    .all()
    .map((row) => rowToJob(row, { includeRequest: true }));
}

/** The fields compared between the mirror and the simulator's ground truth. */
export function comparable(j: Job) {
  return {
    id: j.id,
    status: j.status,
    created_at: j.created_at,
    started_at: j.started_at ?? null,
    completed_at: j.completed_at ?? null,
    expires_at: j.expires_at,
    error: j.error ?? null,
    metadata: j.metadata ?? null,
    request: j.request ?? null,
  };
}

export function byId<T extends { id: string }>(list: T[]): Map<string, T> {
  return new Map(list.map((x) => [x.id, x]));
}
