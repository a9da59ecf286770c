/**
 * Schema migrations of the PostgreSQL store (drizzle-pg/), applied under an advisory lock so that two
 * processes starting at once on a fresh database (worker + server under PM2, two workers of a fleet) are
 * safe: the first applies everything in one transaction, the second waits on the lock, then finds nothing
 * left to do. drizzle's own `migrate()` reads the applied list without a lock and never refuses a schema
 * newer than the code; this keeps drizzle's bookkeeping table (`drizzle.__drizzle_migrations`, same columns)
 * so drizzle-kit tools still read it.
 *
 * A database that already carries every migration of this build is checked without the lock and without
 * DDL, so a role that may only read (a BI user, `serve`) can open it.
 */
import { type MigrationMeta, readMigrationFiles } from 'drizzle-orm/migrator';
import type { PoolClient } from 'pg';
import { PG_MIGRATIONS_FOLDER } from '../migrationFolders.ts';
import { LOCK_CLASS_MIGRATE } from './locks.ts';

export { PG_MIGRATIONS_FOLDER };

const TABLE = 'drizzle.__drizzle_migrations';

export class SchemaNewerError extends Error {
  override name = 'SchemaNewerError';
}

export class SchemaPendingError extends Error {
  override name = 'SchemaPendingError';
}

async function appliedHashes(client: PoolClient): Promise<Set<string>> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('${TABLE}')::text AS t`);
  if (exists.rows[0]?.t == null) return new Set();
  const rows = await client.query<{ hash: string }>(`SELECT hash FROM ${TABLE}`);
  return new Set(rows.rows.map((r) => r.hash));
}

function pendingOf(applied: Set<string>, migrations: MigrationMeta[], where: string): MigrationMeta[] {
  const known = new Set(migrations.map((m) => m.hash));
  const unknown = [...applied].filter((h) => !known.has(h)).length;
  if (unknown > 0)
    throw new SchemaNewerError(
      `${where} was written by a newer retab-mirror (${unknown} unknown schema migration(s)); upgrade retab-mirror or point MIRROR_DB at another database`,
    );
  return migrations.filter((m) => !applied.has(m.hash));
}

export interface MigratePgOptions {
  /** Check only: throw SchemaPendingError instead of migrating. @default false */
  readonly?: boolean;
  /** Called before an existing database is upgraded (not when a fresh one is created). */
  onUpgrade?: (info: { pending: number }) => void;
  /** Shown in errors instead of the URL (credentials masked). */
  where: string;
}

/** Bring the database to this build's schema; returns how many migrations it applied. */
export async function migratePg(client: PoolClient, opts: MigratePgOptions): Promise<number> {
  const migrations = readMigrationFiles({ migrationsFolder: PG_MIGRATIONS_FOLDER });
  const first = pendingOf(await appliedHashes(client), migrations, opts.where);
  if (first.length === 0) return 0;
  if (opts.readonly)
    throw new SchemaPendingError(
      `${opts.where} needs ${first.length} schema migration(s) and was opened read-only; run a sync (or open it read-write once) first`,
    );
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, 1)', [LOCK_CLASS_MIGRATE]);
    await client.query('CREATE SCHEMA IF NOT EXISTS drizzle');
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`,
    );
    // Again under the lock: another process may have migrated while this one waited.
    const applied = await appliedHashes(client);
    const pending = pendingOf(applied, migrations, opts.where);
    if (applied.size > 0 && pending.length > 0) opts.onUpgrade?.({ pending: pending.length });
    for (const m of pending) {
      for (const stmt of m.sql) if (stmt.trim() !== '') await client.query(stmt);
      await client.query(`INSERT INTO ${TABLE} (hash, created_at) VALUES ($1, $2)`, [m.hash, m.folderMillis]);
    }
    await client.query('COMMIT');
    return pending.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
