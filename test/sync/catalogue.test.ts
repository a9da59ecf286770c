import { describe, expect, it } from 'vitest';
import { taskConfigOf, taskSpecs } from '../../src/sync/index.ts';

const base = taskConfigOf({
  pageSize: 50,
  payloadMode: 'request',
  headOverlapSeconds: 300,
  backfillDays: 3,
  sources: ['api', 'project', 'workflow'],
  activeStatuses: ['queued', 'in_progress'],
});
const now = Date.parse('2026-11-10T12:00:00Z');

describe('task catalogue', () => {
  it('maps the config to every task the same way, whoever runs it', () => {
    const [head] = taskSpecs(base, { task: 'head' });
    expect(head?.options).toEqual({
      pageSize: 50,
      payloadMode: 'request',
      overlapSeconds: 300,
      backfillDays: 3,
    });
    const [hydrate] = taskSpecs(base, { task: 'hydrate' });
    expect(hydrate?.options).toMatchObject({ payloadMode: 'request', pageSize: 50 });
    expect(taskSpecs(base, { task: 'active' }).map((s) => s.partition)).toEqual(['active']);
    expect(taskSpecs(base, { task: 'active', status: 'queued' })[0]?.partition).toBe('active:queued');
  });

  it('splits windows and head per source only when a strict subset of sources is mirrored', () => {
    expect(taskSpecs(base, { task: 'reconcile', now, days: 1 }).map((s) => s.partition)).toEqual([
      'window:2026-11-09',
      'window:2026-11-10',
    ]);
    const subset = { ...base, sources: ['workflow' as const, 'api' as const, 'api' as const] };
    expect(taskSpecs(subset, { task: 'history', days: ['2026-11-01'] }).map((s) => s.partition)).toEqual([
      'window:2026-11-01:source=workflow',
      'window:2026-11-01:source=api',
    ]);
    expect(taskSpecs(subset, { task: 'head' })[0]?.options).toMatchObject({ sources: ['workflow', 'api'] });
  });

  it('marks history windows as backfill and reconcile windows as restarts', () => {
    expect(taskSpecs(base, { task: 'history', days: ['2026-11-01'] })[0]?.options).toMatchObject({
      backfill: true,
    });
    expect(taskSpecs(base, { task: 'reconcile', now, days: 1 })[0]?.options).toMatchObject({ restart: true });
  });
});
