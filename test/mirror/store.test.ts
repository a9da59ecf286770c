/**
 * The store seam's own promises, on both stores (test/stores.ts): what openStore opens, how a location is
 * shown, and how failures surface; then what only PostgreSQL has to prove (a URL's scheme, a masked
 * password, a pooled connection the server drops).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { displayLocation, openStore, storeKindOf } from '../../src/mirror/index.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import { forEachStore, storeKinds } from '../stores.ts';
import { makeJob } from './factory.ts';

forEachStore((s) => {
  it('opens a store that reads and writes through promises', async () => {
    const store = await s.open();
    expect(store.kind).toBe(s.kind);
    const job = makeJob();
    const r = await store.jobs.applyPage([job], { observedAt: 1_000 });
    expect(r).toMatchObject({ inserted: 1, events: 1 });
    expect((await store.jobs.get(job.id))?.id).toBe(job.id);
    expect(await store.jobs.count()).toBe(1);
    expect(await store.outbox.maxSeq()).toBe(1);
    const [event] = await store.outbox.after(0, 10);
    expect(event).toMatchObject({ seq: 1, type: 'job.discovered', jobId: job.id });
    expect(await store.outbox.byEventId(event?.eventId ?? '')).toEqual(event);
    expect(await store.outbox.count()).toBe(1);
    expect(await store.jobs.latestCreatedAt()).toBe(job.created_at);
    expect(await store.jobs.knownIds([job.id, 'job_nope'])).toEqual(new Set([job.id]));
  });

  it('a storage failure rejects the promise (never a synchronous throw)', async () => {
    const store = await s.open();
    const finish = store.runs.finish(12345, {
      requests: 0,
      pages: 0,
      jobs: 0,
      inserted: 0,
      updated: 0,
      events: 0,
      missing: 0,
      quarantined: 0,
      outcome: 'success',
      finishedAt: 1,
    });
    await expect(finish).rejects.toThrow(/no run with id 12345/);
    await expect(store.cursors.replayFrom('queue', 0)).rejects.toThrow(RangeError);
  });

  it('the read models answer alike (runs, metrics, partitions, job trace, column rows)', async () => {
    const store = await s.open();
    const job = makeJob({ metadata: { batch: 'b1' } });
    await store.jobs.applyPage([job], {
      observedAt: 1_000,
      checkpoint: { partition: 'head', cursor: job.id, status: 'running' },
    });
    const id = await store.runs.start({ task: 'head', partition: 'head', startedAt: 1_000 });
    await store.runs.finish(id, {
      requests: 3,
      pages: 1,
      jobs: 1,
      inserted: 1,
      updated: 0,
      events: 1,
      missing: 0,
      quarantined: 0,
      outcome: 'success',
      finishedAt: 1_500,
      upstreamStatuses: { '200': 2, '503': 1 },
    });
    expect(await store.views.lastSuccessAt()).toBe(1_500);
    expect(await store.views.lastSuccessAt('head')).toBe(1_500);
    expect(await store.views.requestsSince(1_000)).toBe(3);
    const m = await store.views.metrics();
    expect(m).toMatchObject({
      jobsByStatus: [{ status: job.status, n: 1 }],
      lastSuccessAt: 1_500,
      upstreamRequests: 3,
      quarantined: 0,
      eventsByType: [{ type: 'job.discovered', n: 1 }],
      runsByOutcome: [{ task: 'head', outcome: 'success', n: 1 }],
      runMsByTask: [{ task: 'head', ms: 500 }],
      lastRunMsByTask: [{ task: 'head', ms: 500 }],
      maxSeq: 1,
    });
    expect([...m.upstreamResponses].sort((a, b) => a.status.localeCompare(b.status))).toEqual([
      { status: '200', n: 2 },
      { status: '503', n: 1 },
    ]);
    expect(await store.views.partitions(10)).toEqual([
      { partition: 'head', status: 'running', lastSuccessAt: null, lastError: null },
    ]);
    expect(await store.views.runsOf('head', 5)).toMatchObject([{ id, durationMs: 500, requests: 3 }]);
    expect(await store.views.upstreamStatusesSince(0)).toHaveLength(1);
    expect(await store.views.upstreamStatusesSince(2_000)).toEqual([]);
    expect((await store.runs.latestPerPartition()).map((r) => r.partition)).toEqual(['head']);
    const trace = await store.views.jobTrace(job.id);
    expect(trace).toMatchObject({ firstSeenAt: 1_000, lastSeenAt: 1_000, upstreamMissingAt: null });
    expect(trace?.events.map((e) => e.type)).toEqual(['job.discovered']);
    expect(await store.views.jobTrace('job_unknown')).toBeUndefined();
    expect(await store.views.metadataSeqs('batch', 'b1')).toEqual([1]);
    expect(await store.jobs.anyMetadataValue('batch')).toBe('b1');
    const [row] = await store.views.jobColumnsAfter(0);
    expect(row?.slice(0, 2)).toEqual([1, job.status]);
    expect(await store.views.jobColumnsOf([job.id])).toEqual([row]);
    expect(await store.views.eventJobIdsAfter(0)).toEqual([[1, job.id]]);
  });

  it('a missing mirror opened read-only rejects with MirrorOpenError', async () => {
    const where =
      s.kind === 'sqlite'
        ? join(await s.location(), '..', 'none.db')
        : (await s.location()).replace(/\/[^/]*$/, '/t_does_not_exist');
    await expect(openStore(where, { readonly: true })).rejects.toMatchObject({ name: 'MirrorOpenError' });
  });
});

describe('locations', () => {
  it('a path is SQLite, a postgres:// or postgresql:// URL PostgreSQL, a typo is refused', async () => {
    expect(storeKindOf('./data/mirror.db')).toBe('sqlite');
    expect(storeKindOf(':memory:')).toBe('sqlite');
    expect(storeKindOf('postgres://u@h/db')).toBe('postgres');
    expect(storeKindOf('postgresql://u@h/db')).toBe('postgres');
    expect(() => storeKindOf('postgress://u:pw@h/db')).toThrow(/did you mean postgres:\/\//);
    await expect(openStore('postgress://u:s3cret@h/db')).rejects.toMatchObject({
      name: 'MirrorLocationError',
    });
    await expect(openStore('postgress://u:s3cret@h/db')).rejects.not.toThrow(/s3cret/);
  });

  it('masks a URL password for display and leaves paths alone', () => {
    expect(displayLocation('postgres://app:s3cret@db.internal:5432/mirror')).toBe(
      'postgres://app:***@db.internal:5432/mirror',
    );
    expect(displayLocation('postgres://db.internal/mirror')).toBe('postgres://db.internal/mirror');
    expect(displayLocation('/var/lib/mirror.db')).toBe('/var/lib/mirror.db');
  });

  it('an SQLite store is located by its file path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-'));
    try {
      const store = await openStore(join(dir, 'm.db'));
      expect(store.location).toBe(join(dir, 'm.db'));
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(storeKinds().includes('postgres'))('a PostgreSQL store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('shows its URL with the password masked, never the password', async () => {
    const u = new URL(db.url);
    u.password = 's3cret'; // trust auth: any password is accepted
    const store = await openStore(u.toString());
    try {
      expect(store.location).toMatch(/:\*+@/);
      expect(store.location).not.toContain('s3cret');
    } finally {
      await store.close();
    }
  });

  it('an unreachable server rejects with one line naming MIRROR_DB, password masked, retryable', async () => {
    const err = await openStore('postgres://u:s3cret@127.0.0.1:1/db', { connectTimeoutMs: 2000 }).catch(
      (e: unknown) => e as Error & { retryable?: boolean },
    );
    expect(err).toMatchObject({ name: 'MirrorOpenError', retryable: true });
    expect((err as Error).message).toMatch(
      /^cannot reach PostgreSQL at MIRROR_DB=postgres:\/\/u:\*+@127\.0\.0\.1:1\/db/,
    );
    expect((err as Error).message).not.toContain('s3cret');
    expect((err as Error).message).not.toContain('\n');
  });

  it('holds at most poolSize connections (MIRROR_DB_POOL_SIZE), however many reads are in flight', async () => {
    const store = await openStore(db.url, { poolSize: 2 });
    try {
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      try {
        const count = async () =>
          (
            await admin.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'retab-mirror'",
            )
          ).rows[0]?.n;
        const reads = Array.from({ length: 8 }, () => store.jobs.count());
        expect(await count()).toBeLessThanOrEqual(2);
        await Promise.all(reads);
        expect(await count()).toBeLessThanOrEqual(2);
      } finally {
        await admin.end();
      }
    } finally {
      await store.close();
    }
  });

  it('survives the server dropping its idle pooled connections; the next query reconnects', async () => {
    const store = await openStore(db.url, { poolSize: 3 });
    try {
      await Promise.all([store.jobs.count(), store.jobs.count(), store.outbox.maxSeq()]);
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      try {
        const r = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'`,
        );
        expect(r.rowCount).toBeGreaterThan(0);
      } finally {
        await admin.end();
      }
      // The pool's clients see the termination as an 'error' event while idle: the process must not die.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await store.jobs.count()).toBe(0);
    } finally {
      await store.close();
    }
  });
});
