import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRetabMirror,
  type MirrorEvent,
  openRetabMirror,
  type RetabMirror,
  startSimulator,
} from '../../src/index.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { forEachStore } from '../stores.ts';

let sim: Simulator;
let m: RetabMirror | undefined;

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, jobs: 400, days: 3, now: Date.parse('2026-11-01T12:00:00Z') });
});

afterAll(async () => {
  await sim?.close();
});

afterEach(async () => {
  await m?.close();
  m = undefined;
});

forEachStore((store) => {
  it('openRetabMirror syncs, delivers typed events to listeners, and answers list/get/stats offline', async () => {
    m = await openRetabMirror({
      config: { apiKey: sim.apiKey, baseUrl: sim.url, dbPath: await store.location(), backfillDays: 4 },
      now: () => sim.clock.now(),
    });
    expect(m.mirror.kind).toBe(store.kind);
    const discovered: MirrorEvent[] = [];
    const changed: MirrorEvent[] = [];
    const runs: string[] = [];
    m.on('job.discovered', (e) => {
      discovered.push(e);
    })
      .on('job.status_changed', (e) => {
        changed.push(e);
      })
      .on('sync.run_finished', (r) => {
        runs.push(r.task);
      });
    const first = await m.sync();
    expect(first.outcome).toBe('success');
    expect(discovered).toHaveLength(sim.store.size);
    expect(runs).toContain('head');
    expect(runs).toContain('active');

    // A failed job retried upstream reaches listeners as failed → queued after the next pass.
    const failed = sim.store.all().find((j) => j.status === 'failed');
    expect(failed).toBeDefined();
    sim.store.retry(failed!.id);
    await m.sync();
    expect(changed.some((e) => e.jobId === failed!.id && e.from === 'failed' && e.to === 'queued')).toBe(
      true,
    );

    const page = await m.list({ status: 'completed', limit: 5 });
    expect(page.data).toHaveLength(5);
    expect(page.data.every((j) => j.status === 'completed')).toBe(true);
    expect((await m.get(failed!.id))?.status).toBe('queued');
    await expect(m.list({ limit: 500 })).rejects.toThrow(/limit/);
    const stats = await m.stats({ groupBy: 'status' });
    expect(stats.totals.count).toBe(sim.store.size);
  });
});

describe('createRetabMirror (synchronous, SQLite)', () => {
  it('opens an SQLite file at once; its reads are promises too', async () => {
    m = createRetabMirror({
      config: {
        apiKey: sim.apiKey,
        baseUrl: sim.url,
        dbPath: join(mkdtempSync(join(tmpdir(), 'lib-')), 'm.db'),
      },
    });
    expect((await m.list()).data).toEqual([]);
    expect(await m.get('job_unknown')).toBeUndefined();
  });

  it('refuses a PostgreSQL URL, pointing at openRetabMirror, password masked', () => {
    expect(() =>
      createRetabMirror({ config: { dbPath: 'postgres://app:s3cret@127.0.0.1:5432/mirror' } }),
    ).toThrow(/openRetabMirror/);
    expect(() =>
      createRetabMirror({ config: { dbPath: 'postgres://app:s3cret@127.0.0.1:5432/mirror' } }),
    ).not.toThrow(/s3cret/);
  });
});

describe('sync() with a webhook that is down', () => {
  it('resolves once listeners have the events and eventsTimeoutMs passed, not after every retry', async () => {
    const lib = createRetabMirror({
      config: {
        apiKey: sim.apiKey,
        baseUrl: sim.url,
        dbPath: join(mkdtempSync(join(tmpdir(), 'lib-down-')), 'm.db'),
        backfillDays: 4,
        // Nothing listens on port 9: every POST is refused and retried (8 attempts, minutes of backoff).
        webhooks: [{ name: 'down', url: 'http://127.0.0.1:9/hook', secret: 'whsec_ZG93bi1ob29r' }],
        alertRules: [
          { name: 'all', when: { includeBackfill: true, includeInferred: true }, sinks: ['down'] },
        ],
      },
      now: () => sim.clock.now(),
      eventsTimeoutMs: 1500,
    });
    try {
      const heard: MirrorEvent[] = [];
      lib.on('job.discovered', (e) => void heard.push(e));
      const started = Date.now();
      expect((await lib.sync()).outcome).toBe('success');
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(heard.length).toBeGreaterThanOrEqual(sim.store.size - 1);
    } finally {
      await lib.close();
    }
  });
});
