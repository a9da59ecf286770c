/**
 * A fresh PostgreSQL database per test file, on the real server at TEST_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres, trust auth): `CREATE DATABASE t_<uuid>` in `beforeAll`,
 * `DROP DATABASE … WITH (FORCE)` in `afterAll`, so files never see each other's rows and nothing is left.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export const ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** The database's name (`t_` + 32 hex digits). */
  name: string;
  /** A URL to it, as MIRROR_DB would carry it. */
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(
      `the PostgreSQL tests need a server at ${ADMIN_URL} (${(err as Error).message}); start it (pg_ctlcluster 15 main start) or set TEST_PG_URL`,
    );
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A URL for database `name` on the test server. */
export function urlFor(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export interface CreateTestDatabaseOptions {
  /**
   * Create it with this ICU locale as its default collation (e.g. `en-US`, which sorts `job_a-b` after
   * `job_ab`, unlike bytes), to prove answers do not depend on the database's locale. @default the server's
   */
  icuLocale?: string;
}

export async function createTestDatabase(opts: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `t_${randomUUID().replaceAll('-', '')}`;
  const locale = opts.icuLocale
    ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${opts.icuLocale.replace(/[^A-Za-z0-9_-]/g, '')}' LOCALE 'C.UTF-8'`
    : '';
  await admin(async (c) => {
    try {
      await c.query(`CREATE DATABASE ${name}${locale}`);
    } catch (err) {
      // A server built without ICU (or older than 15): the server's own locale still runs every test.
      if (locale === '' || !/ICU|LOCALE_PROVIDER|locale provider/i.test((err as Error).message)) throw err;
      await c.query(`CREATE DATABASE ${name}`);
    }
    // A throwaway database: a commit need not wait for its WAL flush (a server crash may lose the last few
    // commits, which no test survives anyway). Every transaction of the PG suites commits faster.
    await c.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  });
  return {
    name,
    url: urlFor(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
