/**
 * Run a suite on every store: `forEachStore((store) => { it(…) })` declares the suite twice, as
 * `sqlite store` and `postgres store`, so the same tests hold both implementations of the seam to the same
 * answers (parameterised, never copied).
 *
 * - SQLite: each `store.location()` is a new file in a temporary folder removed after the suite.
 * - PostgreSQL: one fresh database per test file and kind (pg/pgDatabase.ts: `CREATE DATABASE t_<uuid>` in
 *   `beforeAll`, dropped in `afterAll`); each `store.location()` empties it (every table `DELETE`d and every
 *   sequence restarted in one transaction, so seqs start at 1 as in a new file; `TRUNCATE` recreates each
 *   table's and index's files and cost 65–470 ms a test here, this 30–80 ms) and returns its URL. Tests of
 *   one file run one at a time, so a test never sees another's rows.
 *
 * `TEST_STORES=sqlite` (or `postgres`) runs one kind only. Stores opened by `store.open()` are closed after
 * each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { type MirrorStore, type OpenStoreOptions, openStore } from '../src/mirror/index.ts';
import { createTestDatabase, type TestDatabase } from './pg/pgDatabase.ts';

export type StoreKind = 'sqlite' | 'postgres';

export interface StoreUnderTest {
  readonly kind: StoreKind;
  /** A fresh, empty mirror location: a new file path, or the file's database URL emptied. */
  location(): Promise<string>;
  /** Open a fresh, empty mirror (closed after the test). */
  open(opts?: OpenStoreOptions): Promise<MirrorStore>;
  /** Open `location` again (another process's view of the same mirror; closed after the test). */
  reopen(location: string, opts?: OpenStoreOptions): Promise<MirrorStore>;
}

const ALL: StoreKind[] = ['sqlite', 'postgres'];

export function storeKinds(): StoreKind[] {
  const only = process.env.TEST_STORES?.split(',').map((s) => s.trim());
  return only ? ALL.filter((k) => only.includes(k)) : ALL;
}

async function emptyPg(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = await c.query<{ t: string }>(
      "SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = 'public'",
    );
    const sequences = await c.query<{ s: string }>(
      "SELECT quote_ident(sequencename) AS s FROM pg_sequences WHERE schemaname = 'public'",
    );
    // One round trip (a simple multi-statement query); the foreign keys cascade, so any order deletes.
    const statements = [
      ...tables.rows.map((r) => `DELETE FROM ${r.t}`),
      ...sequences.rows.map((r) => `ALTER SEQUENCE ${r.s} RESTART`),
    ];
    if (statements.length > 0) await c.query(`BEGIN; ${statements.join('; ')}; COMMIT`);
  } finally {
    await c.end();
  }
}

/** Declare `body`'s tests once per store kind (see the file header). */
export function forEachStore(body: (store: StoreUnderTest) => void): void {
  describe.each(storeKinds())('%s store', (kind) => {
    let dir: string | undefined;
    let db: TestDatabase | undefined;
    let n = 0;
    const opened: MirrorStore[] = [];
    beforeAll(async () => {
      if (kind === 'sqlite') dir = mkdtempSync(join(tmpdir(), 'store-'));
      else db = await createTestDatabase();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });
    afterAll(async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      await db?.drop();
    });
    const location = async (): Promise<string> => {
      if (kind === 'sqlite') return join(dir as string, `m${++n}.db`);
      const url = (db as TestDatabase).url;
      await emptyPg(url);
      return url;
    };
    const reopen = async (loc: string, opts?: OpenStoreOptions) => {
      const s = await openStore(loc, opts);
      opened.push(s);
      return s;
    };
    body({ kind, location, open: async (opts) => reopen(await location(), opts), reopen });
  });
}
