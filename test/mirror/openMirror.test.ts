// SQLite only (issue #21): opening the SQLite FILE itself (folder creation, pragmas, a non-SQLite or newer file,
// several processes creating it at once). PostgreSQL's opening is test/pg/openPgMirror.test.ts.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyPage,
  countJobs,
  MIGRATIONS_FOLDER,
  MirrorOpenError,
  openMirror,
} from '../../src/mirror/index.ts';
import { makeJob } from './factory.ts';

const run = promisify(execFile);
const MIGRATIONS = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'retab-mirror-open-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const TABLES = [
  'event_cursors',
  'event_dead_letters',
  'filename_index_state',
  'job_events',
  // The filename index (FTS5) and its shadow tables.
  'job_filenames_fts',
  'job_filenames_fts_config',
  'job_filenames_fts_data',
  'job_filenames_fts_docsize',
  'job_filenames_fts_idx',
  'job_files',
  'job_metadata',
  'jobs',
  'quarantine',
  'sync_runs',
  'sync_state',
];

describe('openMirror', () => {
  it('creates the folder and the schema from nothing, with the documented pragmas', () => {
    const path = join(dir, 'nested', 'deeper', 'mirror.db');
    const m = openMirror(path, { busyTimeoutMs: 1234 });
    try {
      expect(m.path).toBe(path);
      const tables = m.sqlite
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .pluck()
        .all();
      expect(tables).toEqual(['__drizzle_migrations', ...TABLES]);
      expect(m.sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()).toBe(MIGRATIONS);
      expect(m.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(m.sqlite.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(m.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(m.sqlite.pragma('busy_timeout', { simple: true })).toBe(1234);
      // Checkpoints every ~40 MB of WAL rather than after nearly every page of a sync.
      expect(m.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    } finally {
      m.close();
    }
  });

  it('re-opens an existing mirror without re-migrating and keeps its data', () => {
    const path = join(dir, 'mirror.db');
    const first = openMirror(path);
    applyPage(first, [makeJob(), makeJob()], { observedAt: 1 });
    first.close();
    first.close(); // closing twice is harmless
    const again = openMirror(path);
    try {
      expect(countJobs(again)).toBe(2);
      expect(again.sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()).toBe(
        MIGRATIONS,
      );
      // foreign_keys is on for every connection: deleting a job takes its derived rows with it.
      again.sqlite.prepare('DELETE FROM jobs').run();
      expect(again.sqlite.prepare('SELECT count(*) FROM job_files').pluck().get()).toBe(0);
    } finally {
      again.close();
    }
  });

  it('refuses a file written by a newer schema, and leaves it alone', () => {
    const path = join(dir, 'mirror.db');
    const m = openMirror(path);
    m.sqlite
      .prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)')
      .run('f'.repeat(64), 9e12);
    m.close();
    const before = readFileSync(path);
    expect(() => openMirror(path)).toThrow(MirrorOpenError);
    expect(() => openMirror(path)).toThrow(/newer retab-mirror .*upgrade retab-mirror/);
    expect(() => openMirror(path, { readonly: true })).toThrow(/newer/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a file that is not SQLite, and leaves it alone', () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(20));
    expect(() => openMirror(path)).toThrow(MirrorOpenError);
    expect(() => openMirror(path)).toThrow(/not an SQLite database/);
    expect(readFileSync(path, 'utf8')).toMatch(/^these are my notes/);
    writeFileSync(join(dir, 'tiny'), 'x');
    expect(() => openMirror(join(dir, 'tiny'))).toThrow(/not an SQLite database/);
  });

  it('treats an empty file as a new mirror', () => {
    const path = join(dir, 'empty.db');
    writeFileSync(path, '');
    const m = openMirror(path);
    expect(countJobs(m)).toBe(0);
    m.close();
  });

  it('opens read-only only an existing, current mirror', () => {
    const path = join(dir, 'mirror.db');
    expect(() => openMirror(path, { readonly: true })).toThrow(/does not exist/);
    expect(existsSync(path)).toBe(false);
    const w = openMirror(path);
    applyPage(w, [makeJob()], { observedAt: 1 });
    const r = openMirror(path, { readonly: true });
    try {
      expect(countJobs(r)).toBe(1);
      expect(() => applyPage(r, [makeJob()], { observedAt: 2 })).toThrow(/readonly/);
    } finally {
      r.close();
      w.close();
    }
  });

  it('lets several processes open a fresh file at once (worker and server starting together)', async () => {
    const path = join(dir, 'shared.db');
    const script = join(dir, 'open.ts');
    writeFileSync(
      script,
      `import { openMirror } from ${JSON.stringify(join(ROOT, 'src/mirror/openMirror.ts'))};
const m = openMirror(process.argv[2]);
console.log(m.sqlite.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get());
m.close();`,
    );
    const outs = await Promise.all(
      Array.from({ length: 3 }, () =>
        run(process.execPath, ['--import', 'tsx', script, path], { cwd: ROOT, timeout: 30_000 }),
      ),
    );
    expect(outs.map((o) => Number(o.stdout.trim()))).toEqual([MIGRATIONS, MIGRATIONS, MIGRATIONS]);
  });
});
