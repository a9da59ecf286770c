/** The queue's pure pieces: ids, the schedule plan, the failure decision, the locks and the probe gate. */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { classifyFailure } from '../../src/queue/classifyFailure.ts';
import { FatalGate } from '../../src/queue/fatalGate.ts';
import { jobIdOf, partitionOf, windowSources } from '../../src/queue/jobData.ts';
import { PartitionLocks } from '../../src/queue/partitionLocks.ts';
import { planSchedulers } from '../../src/queue/schedulers.ts';
import {
  AuthenticationError,
  InternalServerError,
  RateLimitError,
  UnprocessableEntityError,
} from '../../src/retab/errors.ts';
import { type RunSummary, SyncTaskError } from '../../src/sync/types.ts';

const summary: RunSummary = {
  task: 'head',
  partition: 'head',
  requests: 1,
  pages: 0,
  jobs: 0,
  inserted: 0,
  updated: 0,
  events: 0,
  missing: 0,
  quarantined: 0,
  durationMs: 1,
  outcome: 'failed',
};
const taskError = (cause: Error, retryable: boolean) => new SyncTaskError(summary, cause, retryable);
const ctx = { dbPath: '/data/mirror.db' };

describe('job ids and partitions', () => {
  it('derives BullMQ-safe ids from partition keys', () => {
    expect(partitionOf({ task: 'window', day: '2026-11-01', source: 'api' })).toBe(
      'window:2026-11-01:source=api',
    );
    expect(jobIdOf('window:2026-11-01:source=api')).toBe('window-2026-11-01-source=api');
    expect(jobIdOf(partitionOf({ task: 'active', status: 'in_progress' }))).toBe('active-in_progress');
    // The walk from the end of a dense day: its own partition and job id (src/sync/daySplit.ts).
    expect(jobIdOf(partitionOf({ task: 'window', day: '2026-11-01', source: 'api', from: 'end' }))).toBe(
      'window-2026-11-01-source=api-desc',
    );
  });

  it('sweeps one window per day when every source is mirrored, else one per source', () => {
    expect(windowSources(['api', 'project', 'workflow'])).toEqual([undefined]);
    expect(windowSources(['workflow', 'api'])).toEqual(['workflow', 'api']);
  });
});

describe('planSchedulers', () => {
  it('plans one scheduler per partition with the configured intervals', () => {
    const plan = planSchedulers({
      headEveryMs: 30_000,
      activeEveryMs: 10_000,
      hydrateEveryMs: 60_000,
      reconcileEveryMs: 3_600_000,
      activeStatuses: ['queued', 'in_progress'],
    });
    expect(plan.map((p) => [p.id, p.every])).toEqual([
      ['head', 30_000],
      ['active:queued', 10_000],
      ['active:in_progress', 10_000],
      ['hydrate', 60_000],
      ['reconcile', 3_600_000],
    ]);
  });
});

describe('classifyFailure', () => {
  it('stops on a rejected key, for every partition, naming RETAB_API_KEY', () => {
    const f = classifyFailure(taskError(new AuthenticationError('401', { status: 401 }), false), ctx);
    expect(f).toMatchObject({ kind: 'fatal', global: true });
    expect(f.message).toContain('RETAB_API_KEY');
  });

  it('stops on refused parameters for this partition only', () => {
    const f = classifyFailure(
      taskError(new UnprocessableEntityError('bad source', { status: 422 }), false),
      ctx,
    );
    expect(f.kind).toBe('fatal');
    expect(f.global).toBeUndefined();
  });

  it('pauses the queue for Retry-After on a 429', () => {
    const cause = new RateLimitError('429', { status: 429, retryAfterMs: 7000 });
    expect(classifyFailure(taskError(cause, true), ctx)).toMatchObject({
      kind: 'rate_limited',
      waitMs: 7000,
    });
  });

  it('retries upstream hiccups and unknown errors', () => {
    expect(classifyFailure(taskError(new InternalServerError('502', { status: 502 }), true), ctx).kind).toBe(
      'retry',
    );
    expect(classifyFailure(new Error('socket hang up'), ctx).kind).toBe('retry');
  });

  it('stops on a corrupt database, naming the file', () => {
    const corrupt = Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });
    const f = classifyFailure(taskError(corrupt, false), ctx);
    expect(f).toMatchObject({ kind: 'fatal', global: true });
    expect(f.message).toContain('/data/mirror.db');
  });
});

describe('PartitionLocks', () => {
  it('lets a scheduled tick skip a busy partition and queues window runs in order', async () => {
    const locks = new PartitionLocks();
    const first = locks.tryAcquire('active:queued');
    expect(first).toBeDefined();
    expect(locks.tryAcquire('active:queued')).toBeUndefined();
    expect(locks.tryAcquire('active:in_progress')).toBeDefined();
    first?.();
    expect(locks.isBusy('active:queued')).toBe(false);

    const order: string[] = [];
    const a = await locks.acquire('window:2026-11-01');
    const b = locks.acquire('window:2026-11-01').then((release) => {
      order.push('b');
      release();
    });
    await new Promise((r) => setTimeout(r, 10));
    order.push('a');
    a();
    await b;
    expect(order).toEqual(['a', 'b']);
    expect(locks.isBusy('window:2026-11-01')).toBe(false);
  });
});

describe('FatalGate', () => {
  it('lets one probe through until upstream answers, then fails the waiters at once on a bad key', async () => {
    const gate = new FatalGate(silentLogger, { probeAfterMs: 60_000 });
    const signal = new AbortController().signal;
    const probe = await gate.enter(signal);
    expect('done' in probe).toBe(true);
    const waiter = gate.enter(signal);
    gate.report('upstream rejected the API key (401)', {}, true);
    if ('done' in probe) probe.done();
    expect(await waiter).toEqual({ blocked: 'upstream rejected the API key (401)' });
    expect(await gate.enter(signal)).toEqual({ blocked: 'upstream rejected the API key (401)' });
  });

  it('opens for everyone once a page is committed, and probes again after the pause', async () => {
    const signal = new AbortController().signal;
    const gate = new FatalGate(silentLogger, { probeAfterMs: 1000 });
    const probe = await gate.enter(signal);
    const waiter = gate.enter(signal);
    gate.verified();
    expect('done' in (await waiter)).toBe(true);
    if ('done' in probe) probe.done();

    gate.report('key revoked', {}, true, 0);
    let t = 500;
    expect(await gate.enter(signal, () => t)).toEqual({ blocked: 'key revoked' });
    t = 1500;
    expect('done' in (await gate.enter(signal, () => t))).toBe(true); // the probe after the pause
  });

  it('releases a waiter when the worker shuts down', async () => {
    const gate = new FatalGate(silentLogger);
    const stop = new AbortController();
    await gate.enter(stop.signal);
    const waiter = gate.enter(stop.signal);
    stop.abort();
    expect(await waiter).toEqual({ aborted: true });
  });
});
