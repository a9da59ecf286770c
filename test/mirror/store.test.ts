/** The store seam's own promises: what openStore opens, how a location is shown, and how failures surface. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { displayLocation, type MirrorStore, openStore, storeKindOf } from '../../src/mirror/index.ts';
import { makeJob } from './factory.ts';

let dir: string | undefined;
let store: MirrorStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('openStore', () => {
  it('opens a file path as an SQLite store that reads and writes through promises', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-'));
    store = await openStore(join(dir, 'm.db'));
    expect(store.kind).toBe('sqlite');
    expect(store.location).toBe(join(dir, 'm.db'));
    const job = makeJob();
    const r = await store.jobs.applyPage([job], { observedAt: 1_000 });
    expect(r).toMatchObject({ inserted: 1, events: 1 });
    expect((await store.jobs.get(job.id))?.id).toBe(job.id);
    expect(await store.jobs.count()).toBe(1);
    expect(await store.outbox.maxSeq()).toBe(1);
    const [event] = await store.outbox.after(0, 10);
    expect(event).toMatchObject({ seq: 1, type: 'job.discovered', jobId: job.id });
    expect(await store.outbox.byEventId(event?.eventId ?? '')).toEqual(event);
  });

  it('a storage failure rejects the promise (never a synchronous throw)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-'));
    store = await openStore(join(dir, 'm.db'));
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

  it('a missing file opened read-only rejects with MirrorOpenError', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-'));
    await expect(openStore(join(dir, 'none.db'), { readonly: true })).rejects.toMatchObject({
      name: 'MirrorOpenError',
    });
  });
});

describe('locations', () => {
  it('every location is an SQLite file path until a PostgreSQL store exists (#21)', () => {
    expect(storeKindOf('./data/mirror.db')).toBe('sqlite');
  });

  it('masks a URL password for display and leaves paths alone', () => {
    expect(displayLocation('postgres://app:s3cret@db.internal:5432/mirror')).toBe(
      'postgres://app:***@db.internal:5432/mirror',
    );
    expect(displayLocation('postgres://db.internal/mirror')).toBe('postgres://db.internal/mirror');
    expect(displayLocation('/var/lib/mirror.db')).toBe('/var/lib/mirror.db');
  });
});
