import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetabMirror, type MirrorEvent, type RetabMirror, startSimulator } from '../../src/index.ts';
import type { Simulator } from '../../src/simulator/index.ts';

let sim: Simulator;
let m: RetabMirror;

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, jobs: 400, days: 3, now: Date.parse('2026-11-01T12:00:00Z') });
  m = createRetabMirror({
    config: {
      apiKey: sim.apiKey,
      baseUrl: sim.url,
      dbPath: join(mkdtempSync(join(tmpdir(), 'lib-')), 'm.db'),
      backfillDays: 4,
    },
    now: () => sim.clock.now(),
  });
});

afterAll(async () => {
  await m?.close();
  await sim?.close();
});

describe('createRetabMirror (library facade)', () => {
  it('syncs, delivers typed events to listeners, and answers list/get offline', async () => {
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

    const page = m.list({ status: 'completed', limit: 5 });
    expect(page.data).toHaveLength(5);
    expect(page.data.every((j) => j.status === 'completed')).toBe(true);
    expect(m.get(failed!.id)?.status).toBe('queued');
    expect(() => m.list({ limit: 500 })).toThrow(/limit/);
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
