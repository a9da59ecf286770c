/**
 * Upgrading a mirror written by an earlier schema: the file is migrated in place when it is opened, and
 * nothing already mirrored is lost. The old file is built the way the earlier build did it (its migration
 * applied by the same bookkeeping), then filled with raw rows of the old layout.
 * SQLite only (issue #21): SQLite files written by earlier builds; PostgreSQL mirrors have no earlier layout
 * (their migrations are test/pg/openPgMirror.test.ts's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPage, MIGRATIONS_FOLDER, openMirror } from '../../src/mirror/index.ts';
import { queryJobs } from '../../src/mirror/queryJobs.ts';
import { parseListQuery } from '../../src/retab/params.ts';
import { makeJob } from './factory.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'retab-mirror-migrate-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const MIGRATIONS = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });

/** A file at schema version 1 (`0000_init`: children keyed by the text job id), as that build left it. */
function writeInitSchemaFile(path: string): Database.Database {
  const db = new Database(path);
  const [init] = MIGRATIONS;
  if (!init) throw new Error('no migrations');
  db.exec(
    'CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)',
  );
  for (const stmt of init.sql) if (stmt.trim() !== '') db.exec(stmt);
  db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(
    init.hash,
    init.folderMillis,
  );
  return db;
}

/** Three jobs inserted in an order unlike their ids, with files and metadata, in the old layout. */
const OLD_JOBS = [
  {
    id: 'job_zzz',
    created: 1_790_000_300,
    files: ['z.pdf', 'z2.PNG'],
    meta: { customer: 'acme', batch: 'b1' },
  },
  { id: 'job_aaa', created: 1_790_000_200, files: ['a.docx'], meta: { customer: 'globex' } },
  { id: 'job_mmm', created: 1_790_000_100, files: [], meta: {} },
];

function fillOldLayout(db: Database.Database): void {
  const job =
    db.prepare(`INSERT INTO jobs (id, status, endpoint, source, created_at, expires_at, organization_id,
    metadata, request, has_request, first_seen_at, last_seen_at, observed_at)
    VALUES (?, 'completed', '/v1/documents/extract', 'api', ?, ?, 'org_old', ?, ?, 1, 1, 1, 1)`);
  const file = db.prepare(
    'INSERT INTO job_files (job_id, position, filename, document_type) VALUES (?, ?, ?, ?)',
  );
  const meta = db.prepare('INSERT INTO job_metadata (job_id, key, value) VALUES (?, ?, ?)');
  for (const j of OLD_JOBS) {
    const request = { documents: j.files.map((filename) => ({ filename, url: 'u' })) };
    job.run(j.id, j.created, j.created + 604_800, JSON.stringify(j.meta), JSON.stringify(request));
    for (const [i, f] of j.files.entries()) file.run(j.id, i, f, f.split('.').pop()?.toLowerCase() ?? null);
    for (const [k, v] of Object.entries(j.meta)) meta.run(j.id, k, v);
  }
}

const ids = (m: ReturnType<typeof openMirror>, query: Record<string, string>) => {
  const parsed = parseListQuery({ limit: '100', ...query });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.body));
  return queryJobs(m, parsed.params).data.map((j) => j.id);
};

describe('schema upgrades', () => {
  it('does not report creating a new file as an upgrade', () => {
    const upgrades: unknown[] = [];
    openMirror(join(dir, 'fresh.db'), { onUpgrade: (info) => upgrades.push(info) }).close();
    expect(upgrades).toEqual([]);
  });

  it('keys job_files and job_metadata by the job seq, keeping every row of an older file', () => {
    const path = join(dir, 'mirror.db');
    const old = writeInitSchemaFile(path);
    fillOldLayout(old);
    const rowids = old.prepare('SELECT id, rowid FROM jobs ORDER BY rowid').all();
    old.close();

    const upgrades: unknown[] = [];
    const m = openMirror(path, { onUpgrade: (info) => upgrades.push(info) });
    try {
      expect(upgrades).toEqual([{ path, pending: MIGRATIONS.length - 1 }]);
      expect(m.sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()).toBe(
        MIGRATIONS.length,
      );
      // seq is the old rowid: the order the mirror first saw each job.
      expect(m.sqlite.prepare('SELECT id, seq AS rowid FROM jobs ORDER BY seq').all()).toEqual(rowids);
      const files = m.sqlite
        .prepare(
          `SELECT j.id, f.job_id AS fileJobId, f.position, f.filename, f.document_type AS type
           FROM job_files f JOIN jobs j ON j.seq = f.job_seq ORDER BY j.seq, f.position`,
        )
        .all() as { id: string; fileJobId: string; filename: string }[];
      expect(files.map((f) => [f.id, f.filename])).toEqual([
        ['job_zzz', 'z.pdf'],
        ['job_zzz', 'z2.PNG'],
        ['job_aaa', 'a.docx'],
      ]);
      expect(files.every((f) => f.fileJobId === f.id)).toBe(true);
      const pairs = m.sqlite
        .prepare(
          `SELECT j.id, m.key, m.value FROM job_metadata m JOIN jobs j ON j.seq = m.job_seq
           WHERE m.job_id = j.id ORDER BY j.seq, m.key`,
        )
        .all();
      expect(pairs).toEqual([
        { id: 'job_zzz', key: 'batch', value: 'b1' },
        { id: 'job_zzz', key: 'customer', value: 'acme' },
        { id: 'job_aaa', key: 'customer', value: 'globex' },
      ]);
      expect(m.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(m.sqlite.pragma('foreign_key_check')).toEqual([]);

      // The filters read the migrated rows.
      expect(ids(m, { metadata: JSON.stringify({ customer: 'acme' }) })).toEqual(['job_zzz']);
      expect(ids(m, { document_type: 'docx' })).toEqual(['job_aaa']);
      expect(ids(m, { filename_contains: 'Z2' })).toEqual(['job_zzz']);

      // The filename index holds every mirrored job's names (one row per job with files), and answers.
      expect(m.sqlite.prepare('SELECT indexed_through FROM filename_index_state').pluck().get()).toBe(3);
      const indexed = (match: string) =>
        m.sqlite
          .prepare('SELECT rowid FROM job_filenames_fts WHERE job_filenames_fts MATCH ? ORDER BY rowid')
          .pluck()
          .all(match);
      expect(indexed('"z2."')).toEqual([1]);
      expect(indexed('"\nz." AND "png"')).toEqual([1]); // case folded; names between newlines
      expect(indexed('"doc"')).toEqual([2]);
      expect(ids(m, { filename_contains: 'docx' })).toEqual(['job_aaa']);
      expect(ids(m, { filename_regex: 'Z2\\.png' })).toEqual(['job_zzz']);

      // New jobs get the next seq; a changed job rewrites its rows under its own seq.
      const fresh = makeJob({ metadata: { customer: 'acme' } });
      applyPage(m, [fresh], { observedAt: 2 });
      expect(m.sqlite.prepare('SELECT seq FROM jobs WHERE id = ?').pluck().get(fresh.id)).toBe(4);
      // Newest first: job_zzz was created after the fresh job.
      expect(ids(m, { metadata: JSON.stringify({ customer: 'acme' }) })).toEqual(['job_zzz', fresh.id]);
      // The foreign keys point at the new jobs table: deleting a job still takes its rows with it.
      m.sqlite.prepare('DELETE FROM jobs WHERE id = ?').run('job_zzz');
      expect(m.sqlite.prepare('SELECT filename FROM job_files ORDER BY job_seq').pluck().all()).toEqual([
        'a.docx',
        'Invoice-001.PDF',
      ]);
      expect(m.sqlite.prepare('SELECT count(*) FROM job_metadata').pluck().get()).toBe(2);
    } finally {
      m.close();
    }
    // Opening again finds nothing left to migrate.
    const again = openMirror(path, { onUpgrade: (info) => upgrades.push(info) });
    expect(upgrades).toHaveLength(1);
    expect(again.sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()).toBe(
      MIGRATIONS.length,
    );
    again.close();
  });
});
