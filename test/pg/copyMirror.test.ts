/**
 * copyMirror moves a mirror SQLite → PostgreSQL → SQLite: every table's rows equal (keys kept), the same query
 * answers on all three, resumable after an interruption, the PostgreSQL sequences past the copied keys.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPage, type Mirror, markMissing, openMirror, startRun } from '../../src/mirror/index.ts';
import { applyPagePg } from '../../src/mirror/pg/applyPagePg.ts';
import { copyMirror } from '../../src/mirror/pg/copyMirror.ts';
import { openPgMirror, type PgMirror } from '../../src/mirror/pg/openPgMirror.ts';
import { queryJobsPg } from '../../src/mirror/pg/queryJobsPg.ts';
import { queryJobs } from '../../src/mirror/queryJobs.ts';
import { setCursor } from '../../src/mirror/sqlite/cursors.ts';
import { recordDeadLetter } from '../../src/mirror/sqlite/deadLetters.ts';
import type { NormalizedListParams } from '../../src/retab/params.ts';
import { makeJob } from '../mirror/factory.ts';
import { createTestDatabase, type TestDatabase } from './pgDatabase.ts';
import { scenario } from './scenario.ts';

let db: TestDatabase;
let dir: string;
let source: Mirror;
const opened: Array<{ close(): unknown }> = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'retab-copy-'));
  source = openMirror(join(dir, 'source.db'));
  opened.push(source);
  for (const seed of [41, 42]) for (const p of scenario(seed, 40, 25, 150)) applyPage(source, p.jobs, p.opts);
  markMissing(source, ['job_s41_000', 'job_s41_001'], 1_795_001_000_000);
  startRun(source, { task: 'head', partition: 'head', startedAt: 1 });
  setCursor(source, 'log', 42);
  recordDeadLetter(source, {
    sink: 'webhook:x',
    seq: 7,
    eventId: 'evt_x',
    attempts: 3,
    lastError: 'HTTP 500',
  });
});
afterAll(async () => {
  for (const m of opened.reverse()) await m.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const TABLES: Record<string, string> = {
  jobs: 'seq',
  job_files: 'job_seq, position',
  job_metadata: 'key, value, job_seq',
  job_events: 'seq',
  sync_runs: 'id',
  quarantine: 'id',
  event_dead_letters: 'id',
  sync_state: 'partition',
  event_cursors: 'sink',
};
const BOOLS = new Set(['has_request', 'has_response', 'inferred', 'backfill']);
const norm = (rows: Record<string, unknown>[]) =>
  rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, BOOLS.has(k) && typeof v === 'number' ? v === 1 : v]),
    ),
  );
const sqliteRows = (m: Mirror, t: string) =>
  norm(m.sqlite.prepare(`SELECT * FROM ${t} ORDER BY ${TABLES[t]}`).all() as Record<string, unknown>[]);
// This database has the server's (C.UTF-8) collation: text keys sort bytewise, as on SQLite.
const pgRows = async (m: PgMirror, t: string) =>
  norm((await m.pool.query(`SELECT * FROM ${t} ORDER BY ${TABLES[t]}`)).rows);

describe('copyMirror', () => {
  it('SQLite → PostgreSQL (interrupted, then resumed) → SQLite: same rows, same answers', async () => {
    const pgm = await openPgMirror(db.url);
    opened.push(pgm);
    // Interrupted after two batches of jobs: the next copy resumes where the last committed batch ended.
    let batches = 0;
    await expect(
      copyMirror(
        { kind: 'sqlite', mirror: source },
        { kind: 'postgres', mirror: pgm },
        {
          batch: 50,
          onProgress: () => {
            if (++batches === 2) throw new Error('stopped');
          },
        },
      ),
    ).rejects.toThrow('stopped');
    expect((await pgm.pool.query('SELECT count(*) AS n FROM jobs')).rows[0].n).toBe(100);
    const counts = await copyMirror(
      { kind: 'sqlite', mirror: source },
      { kind: 'postgres', mirror: pgm },
      { batch: 50 },
    );
    const n = (source.sqlite.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
    expect(n).toBeGreaterThan(250);
    expect(counts.jobs).toBe(n);
    expect(counts.job_events).toBeGreaterThan(300);

    const back = openMirror(join(dir, 'back.db'));
    opened.push(back);
    await copyMirror({ kind: 'postgres', mirror: pgm }, { kind: 'sqlite', mirror: back }, { batch: 64 });
    for (const t of Object.keys(TABLES)) {
      const want = sqliteRows(source, t);
      expect(sqliteRows(back, t), t).toEqual(want);
      expect(await pgRows(pgm, t), t).toEqual(want);
    }
    // The copied jobs are in the SQLite filename index, not left for queries to test one by one.
    expect(back.sqlite.prepare('SELECT indexed_through AS n FROM filename_index_state').get()).toEqual({
      n: (back.sqlite.prepare('SELECT max(seq) AS n FROM jobs').get() as { n: number }).n,
    });
    const base: NormalizedListParams = {
      limit: 15,
      order: 'desc',
      include_request: true,
      include_response: false,
    };
    for (const f of [
      {},
      { filename_contains: 'pdf' },
      { filename_regex: '\\d+_scan.*' },
      { metadata: { customer: 'acme' } },
    ]) {
      const want = queryJobs(source, { ...base, ...f });
      expect(queryJobs(back, { ...base, ...f }), JSON.stringify(f)).toEqual(want);
      expect(await queryJobsPg(pgm.pool, { ...base, ...f }), JSON.stringify(f)).toEqual(want);
    }
    // Both copies keep syncing: new rows take keys after the copied ones.
    const job = makeJob();
    await applyPagePg(pgm.pool, [job], { observedAt: 1_795_002_000_000 });
    applyPage(back, [job], { observedAt: 1_795_002_000_000 });
    const maxPg = (await pgm.pool.query('SELECT max(seq) AS n FROM jobs')).rows[0].n;
    expect(maxPg).toBe(n + 1);
    expect((back.sqlite.prepare('SELECT max(seq) AS n FROM jobs').get() as { n: number }).n).toBe(n + 1);
  });
});
