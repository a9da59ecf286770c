/**
 * Open (or create) a mirror database: make its folder, refuse files that are not SQLite or were written by a
 * newer schema, apply pending migrations, set pragmas (WAL: readers never block the writer).
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import * as schema from './schema.ts';

export type MirrorDb = BetterSQLite3Database<typeof schema>;

export interface Mirror {
  /** Absolute path of the database file (`:memory:` for an in-memory mirror). */
  readonly path: string;
  /** The raw better-sqlite3 handle: prepared statements on hot paths. */
  readonly sqlite: Database.Database;
  /** drizzle over the same handle. */
  readonly db: MirrorDb;
  close(): void;
}

export interface OpenMirrorOptions {
  /** Open read-only (no migrations; the file must exist and be current). @default false */
  readonly?: boolean;
  /** How long a write waits for another writer's lock, ms. @default 5000 */
  busyTimeoutMs?: number;
}

export class MirrorOpenError extends Error {
  override name = 'MirrorOpenError';
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

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

/** Refuse a database whose applied migrations include ones this build does not know (a newer version wrote it). */
function assertNotNewer(sqlite: Database.Database, path: string): void {
  const table = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='__drizzle_migrations'")
    .get();
  if (!table) return;
  const known = new Set(readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).map((m) => m.hash));
  const applied = sqlite.prepare('SELECT hash FROM __drizzle_migrations').all() as { hash: string }[];
  const unknown = applied.filter((m) => !known.has(m.hash));
  if (unknown.length > 0) {
    throw new MirrorOpenError(
      `${path} was written by a newer retab-mirror (${unknown.length} unknown schema migration(s)); upgrade retab-mirror or use another MIRROR_DB`,
    );
  }
}

export function openMirror(path: string, opts: OpenMirrorOptions = {}): Mirror {
  const memory = path === ':memory:';
  const abs = memory ? path : resolve(path);
  if (!memory) {
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
    assertNotNewer(sqlite, abs);
    const db = drizzle(sqlite, { schema });
    if (!opts.readonly) migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    return {
      path: abs,
      sqlite,
      db,
      close: () => {
        if (sqlite.open) sqlite.close();
      },
    };
  } catch (err) {
    sqlite.close();
    if (err instanceof MirrorOpenError) throw err;
    const message = (err as Error).message;
    if (/file is not a database|malformed/i.test(message)) {
      throw new MirrorOpenError(`${abs} is not a valid SQLite database (${message})`);
    }
    throw new MirrorOpenError(`cannot open mirror ${abs}: ${message}`);
  }
}
