/**
 * The facade checks its configuration before it opens the mirror: a missing API key leaves no SQLite file,
 * no migrated PostgreSQL database and no open pool behind (issue #20).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createRetabMirror, openRetabMirror, RetabConfigError } from '../../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';

let dir: string;
let db: TestDatabase;
const savedKey = process.env.RETAB_API_KEY;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'facade-config-'));
  db = await createTestDatabase();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});
beforeEach(() => {
  delete process.env.RETAB_API_KEY;
});
afterEach(() => {
  if (savedKey !== undefined) process.env.RETAB_API_KEY = savedKey;
});

it('createRetabMirror without an API key throws RetabConfigError and creates no file', () => {
  const dbPath = join(dir, 'create.db');
  expect(() => createRetabMirror({ config: { dbPath } })).toThrow(RetabConfigError);
  expect(existsSync(dbPath)).toBe(false);
});

it('openRetabMirror without an API key rejects and creates no SQLite file', async () => {
  const dbPath = join(dir, 'open.db');
  await expect(openRetabMirror({ config: { dbPath } })).rejects.toBeInstanceOf(RetabConfigError);
  expect(existsSync(dbPath)).toBe(false);
});

it('openRetabMirror without an API key leaves a PostgreSQL database unmigrated and no connection open', async () => {
  await expect(openRetabMirror({ config: { dbPath: db.url } })).rejects.toBeInstanceOf(RetabConfigError);
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const tables = await c.query("SELECT 1 FROM pg_tables WHERE schemaname IN ('public', 'drizzle')");
    expect(tables.rowCount).toBe(0);
    const others = await c.query(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    expect(others.rows[0].n).toBe(0);
  } finally {
    await c.end();
  }
});
