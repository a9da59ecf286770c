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
