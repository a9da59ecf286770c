/**
 * Open (or create) a mirror database: make its folder, refuse files that are not SQLite or were written by a
 * newer schema, apply pending migrations, set pragmas (WAL: readers never block the writer).
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { type MigrationMeta, readMigrationFiles } from 'drizzle-orm/migrator';
import * as schema from './schema.ts';
import { SqliteStore } from './sqlite/sqliteStore.ts';

export type MirrorDb = BetterSQLite3Database<typeof schema>;

/**
 * An open SQLite mirror: the `MirrorStore` of this file (what code outside src/mirror/ sees) and the raw
 * handle the modules of src/mirror/ use (`path`, `sqlite`, `db`).
 */
export type Mirror = SqliteStore;

export interface OpenMirrorOptions {
  /** Open read-only (no migrations; the file must exist and be current). @default false */
  readonly?: boolean;
  /** How long a write waits for another writer's lock, ms. @default 5000 */
  busyTimeoutMs?: number;
  /**
   * Called before an existing file is upgraded to this build's schema (not when a new file is created): an
   * upgrade may rewrite the jobs table, about 15 s per 200k jobs, so callers say so instead of looking hung.
   */
  onUpgrade?: (info: { path: string; pending: number }) => void;
}

export class MirrorOpenError extends Error {
  override name = 'MirrorOpenError';
}

import { MIGRATIONS_FOLDER } from './migrationFolders.ts';

export { MIGRATIONS_FOLDER };

/** Page cache per connection, KiB. */
const CACHE_KIB = 32 * 1024;
const WAL_AUTOCHECKPOINT_PAGES = 10_000;
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

const SQLITE_MAGIC = 'SQLite format 3\0';

function assertSqliteFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    if (n > 0 && (n < 16 || buf.toString('latin1') !== SQLITE_MAGIC)) {
      throw new MirrorOpenError(
        `${path} is not an SQLite database; point MIRROR_DB at a mirror file or a new path`,
      );
    }
  } finally {
    closeSync(fd);
  }
}

const MIGRATIONS_TABLE = '__drizzle_migrations';

/**
 * Apply pending migrations under one `BEGIN IMMEDIATE` transaction, after refusing a file that has migrations
 * this build does not know (a newer version wrote it). drizzle's own `migrate()` reads the applied list
 * before taking the write lock, so two processes opening a fresh file at once (worker + server under PM2)
 * could both try to create the tables; holding the lock from the check to the commit makes the second one
 * wait, then find nothing left to do. The bookkeeping table keeps drizzle's format, so drizzle-kit tools
 * still read it.
 */
function migrateMirror(
  sqlite: Database.Database,
  path: string,
  onUpgrade: OpenMirrorOptions['onUpgrade'],
): void {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  sqlite
    .transaction(() => {
      sqlite.exec(
        `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
      );
      const applied = appliedHashes(sqlite);
      assertNotNewer(applied, migrations, path);
      const insert = sqlite.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (hash, created_at) VALUES (?, ?)`);
      const pending = migrations.filter((m) => !applied.has(m.hash)).length;
      if (applied.size > 0 && pending > 0) onUpgrade?.({ path, pending });
      for (const m of migrations) {
        if (applied.has(m.hash)) continue;
        for (const stmt of m.sql) if (stmt.trim() !== '') sqlite.exec(stmt);
        insert.run(m.hash, m.folderMillis);
      }
    })
    .immediate();
}

function appliedHashes(sqlite: Database.Database): Set<string> {
  const table = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type='table' AND name=?")
    .get(MIGRATIONS_TABLE);
  if (!table) return new Set();
  const rows = sqlite.prepare(`SELECT hash FROM ${MIGRATIONS_TABLE}`).all() as { hash: string }[];
  return new Set(rows.map((r) => r.hash));
}

function assertNotNewer(applied: Set<string>, migrations: MigrationMeta[], path: string): void {
  const known = new Set(migrations.map((m) => m.hash));
  const unknown = [...applied].filter((h) => !known.has(h));
  if (unknown.length > 0) {
    throw new MirrorOpenError(
      `${path} was written by a newer retab-mirror (${unknown.length} unknown schema migration(s)); upgrade retab-mirror or point MIRROR_DB at another file`,
    );
  }
}

/** A read-only handle cannot migrate: the file must already carry exactly this build's schema. */
function assertCurrent(sqlite: Database.Database, path: string): void {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  const applied = appliedHashes(sqlite);
  assertNotNewer(applied, migrations, path);
  const pending = migrations.filter((m) => !applied.has(m.hash)).length;
  if (pending > 0) {
    throw new MirrorOpenError(
      `${path} needs ${pending} schema migration(s) and was opened read-only; run a sync (or open it read-write once) first`,
    );
  }
}

/**
 * Copy the WAL into the database and truncate it to zero bytes (`PRAGMA wal_checkpoint(TRUNCATE)`). Best
 * effort: a reader still inside a transaction keeps part of the WAL (SQLITE_BUSY), and that is fine.
 */
function checkpointWal(sqlite: Database.Database): void {
  try {
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // busy or read-only filesystem: the next writer checkpoints
  }
}

/**
 * Truncate the WAL of `path` from a process that only reads it (`serve`): open a short read-write handle
 * that checkpoints without waiting for a writer. Nothing happens when the file is gone or busy.
 */
export function truncateWal(path: string): void {
  if (path === ':memory:' || !existsSync(path)) return;
  let sqlite: Database.Database | undefined;
  try {
    sqlite = new Database(path, { fileMustExist: true, timeout: 0 });
    checkpointWal(sqlite);
  } catch {
    // not writable here: leave the WAL to the writer
  } finally {
    sqlite?.close();
  }
}

export function openMirror(path: string, opts: OpenMirrorOptions = {}): Mirror {
  const memory = path === ':memory:';
  const abs = memory ? path : resolve(path);
  if (!memory) {
    if (existsSync(abs) && statSync(abs).isDirectory())
      throw new MirrorOpenError(
        `${abs} is a folder; point MIRROR_DB at a file, e.g. ${join(abs, 'mirror.db')}`,
      );
    if (existsSync(abs)) assertSqliteFile(abs);
    else if (opts.readonly) throw new MirrorOpenError(`${abs} does not exist; run a sync first`);
    else mkdirSync(dirname(abs), { recursive: true });
  }
  let sqlite: Database.Database;
  try {
    sqlite = new Database(abs, { readonly: opts.readonly ?? false, timeout: opts.busyTimeoutMs ?? 5000 });
  } catch (err) {
    throw new MirrorOpenError(`cannot open ${abs}: ${(err as Error).message}`);
  }
  try {
    if (!opts.readonly) sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    // Index pages stay cached across pages of a sync instead of being re-read from the OS.
    sqlite.pragma(`cache_size = -${CACHE_KIB}`);
    if (!opts.readonly) {
      // One page of jobs dirties hundreds of index pages (job ids are random). At SQLite's default of 1000 WAL
      // pages, nearly every commit would also checkpoint (copy + fsync the database); checkpoint every ~40 MB
      // instead, and truncate the WAL back afterwards so it does not stay large on disk.
      sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    }
    if (opts.readonly) assertCurrent(sqlite, abs);
    else migrateMirror(sqlite, abs, opts.onUpgrade);
    const db = drizzle(sqlite, { schema });
    return new SqliteStore(abs, sqlite, db, () => {
      if (!sqlite.open) return;
      // A clean stop leaves no WAL behind, even while another process (the server) keeps the file open.
      if (!opts.readonly && !memory) checkpointWal(sqlite);
      sqlite.close();
    });
  } catch (err) {
    sqlite.close();
    if (err instanceof MirrorOpenError) throw err;
    const message = (err as Error).message;
    const code = (err as { code?: string }).code;
    if (
      code === 'SQLITE_NOTADB' ||
      code === 'SQLITE_CORRUPT' ||
      /file is not a database|malformed/i.test(message)
    ) {
      throw new MirrorOpenError(`${abs} is not a valid SQLite database (${message})`);
    }
    throw new MirrorOpenError(`cannot open mirror ${abs}: ${message}`);
  }
}
