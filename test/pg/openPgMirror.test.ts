import { createServer, type Server } from 'node:net';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PG_MIGRATIONS_FOLDER } from '../../src/mirror/pg/migratePg.ts';
import { openPgMirror, type PgMirror, PgMirrorOpenError } from '../../src/mirror/pg/openPgMirror.ts';
import { inTransaction, SessionEndedError } from '../../src/mirror/pg/transaction.ts';
import { parseMirrorLocation } from '../../src/mirrorLocation.ts';
import { createTestDatabase, type TestDatabase, urlFor } from './pgDatabase.ts';

const dbs: TestDatabase[] = [];
const mirrors: PgMirror[] = [];
async function freshDb(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  dbs.push(db);
  return db;
}
afterEach(async () => {
  await Promise.all(mirrors.splice(0).map((m) => m.close()));
});
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

async function openError(url: string, opts = {}): Promise<PgMirrorOpenError> {
  const err = await openPgMirror(url, { connectTimeoutMs: 3000, ...opts }).then(
    (m) => {
      mirrors.push(m);
      throw new Error('opened');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PgMirrorOpenError);
  return err as PgMirrorOpenError;
}

describe('openPgMirror: migrations', () => {
  it('two processes opening a fresh database at once both succeed; the schema is applied once', async () => {
    const db = await freshDb();
    const opened = await Promise.all([openPgMirror(db.url), openPgMirror(db.url), openPgMirror(db.url)]);
    mirrors.push(...opened);
    const m = opened[0] as PgMirror;
    const applied = await m.pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
    // Each migration of this build once, not once per process.
    expect(applied.rows[0].n).toBe(readMigrationFiles({ migrationsFolder: PG_MIGRATIONS_FOLDER }).length);
    const ext = await m.pool.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'");
    expect(ext.rowCount).toBe(1);
    const idx = await m.pool.query(
      "SELECT indexdef FROM pg_indexes WHERE indexname = 'job_files_filename_trgm_idx'",
    );
    expect(idx.rows[0].indexdef).toMatch(
      /USING gin \(translate\(lower\(\(filename COLLATE "C"\)\), .*gin_trgm_ops\)/,
    );
    // Reopening an up-to-date database changes nothing.
    mirrors.push(await openPgMirror(db.url));
    const again = await m.pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
    expect(again.rows[0].n).toBe(applied.rows[0].n);
  });

  it('int8 columns read back as numbers', async () => {
    const db = await freshDb();
    const m = await openPgMirror(db.url);
    mirrors.push(m);
    const r = await m.pool.query('SELECT 1796079156330::bigint AS ms');
    expect(r.rows[0].ms).toBe(1796079156330);
  });

  it('refuses a database whose schema is newer than this build, in one line', async () => {
    const db = await freshDb();
    const m = await openPgMirror(db.url);
    await m.pool.query(
      "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('a-migration-from-the-future', 1)",
    );
    await m.close();
    const err = await openError(db.url);
    expect(err.reason).toBe('schema-newer');
    expect(err.message).toMatch(/written by a newer retab-mirror \(1 unknown schema migration\(s\)\)/);
    expect(err.message).toContain('MIRROR_DB');
    expect(err.message).not.toContain('\n');
  });

  it('read-only refuses a database that needs migrations, and opens one that does not', async () => {
    const db = await freshDb();
    const err = await openError(db.url, { readonly: true });
    expect(err.reason).toBe('schema-pending');
    mirrors.push(await openPgMirror(db.url));
    mirrors.push(await openPgMirror(db.url, { readonly: true }));
  });
});

describe('openPgMirror: a transaction left idle (a writer frozen inside it)', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('is ended by the server past idleInTransactionTimeoutMs: one SessionEndedError, nothing committed, the connection dropped, no crash', async () => {
    const db = await freshDb();
    const m = await openPgMirror(db.url, { idleInTransactionTimeoutMs: 300 });
    mirrors.push(m);
    await m.pool.query('CREATE TABLE t (n int)');
    const err = await inTransaction(m.pool, async (c) => {
      await c.query('INSERT INTO t VALUES (1)');
      await sleep(900); // the session's 'error' arrives while the client is checked out, between statements
      await c.query('INSERT INTO t VALUES (2)');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionEndedError);
    expect((err as SessionEndedError).code).toBe('25P03');
    expect((err as Error).message).toMatch(/idle_in_transaction_session_timeout/);
    expect(m.pool.totalCount).toBe(0); // the dead client was destroyed, not returned to the pool
    expect((await m.pool.query('SELECT count(*)::int AS n FROM t')).rows[0]).toEqual({ n: 0 });
  });

  it('never ends a transaction whose statements follow each other within the timeout', async () => {
    const db = await freshDb();
    const m = await openPgMirror(db.url, { idleInTransactionTimeoutMs: 1000 });
    mirrors.push(m);
    expect((await m.pool.query('SHOW idle_in_transaction_session_timeout')).rows[0]).toEqual({
      idle_in_transaction_session_timeout: '1s',
    });
    await m.pool.query('CREATE TABLE t (n int)');
    await inTransaction(m.pool, async (c) => {
      for (let n = 0; n < 6; n++) {
        await c.query('INSERT INTO t VALUES ($1)', [n]);
        await sleep(300); // 1.8 s in all, never 1 s idle at once
      }
    });
    expect((await m.pool.query('SELECT count(*)::int AS n FROM t')).rows[0]).toEqual({ n: 6 });
  });
});

describe('openPgMirror: errors', () => {
  it('unreachable: one line naming MIRROR_DB, password masked, retryable', async () => {
    const err = await openError('postgres://alice:s3cret-pw@127.0.0.1:1/mirror');
    expect(err.reason).toBe('unreachable');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(
      /^cannot reach PostgreSQL at MIRROR_DB=postgres:\/\/alice:\*{8}@127\.0\.0\.1:1\/mirror \(.*ECONNREFUSED/,
    );
    expect(err.message).not.toContain('s3cret-pw');
    expect(err.message).not.toContain('\n');
  });

  it('a database that does not exist says so', async () => {
    const err = await openError(urlFor('t_does_not_exist_here'));
    expect(err.reason).toBe('no-database');
    expect(err.message).toMatch(/database "t_does_not_exist_here" does not exist at MIRROR_DB=/);
  });

  it('a role that does not exist (the trust server cannot refuse a password): authentication failed', async () => {
    const u = new URL(urlFor('postgres'));
    u.username = 'no_such_role_here';
    u.password = 'pw-should-not-show';
    const err = await openError(u.toString());
    expect(err.reason).toBe('auth');
    expect(err.message).toMatch(/^authentication failed for MIRROR_DB=postgres:\/\/no_such_role_here:\*{8}@/);
    expect(err.message).not.toContain('pw-should-not-show');
  });

  it('a wrong password: authentication failed (a stand-in server that asks for a password and refuses it)', async () => {
    // The test server trusts everyone, so the refusal comes from a minimal server speaking the protocol:
    // it asks for a cleartext password, reads it, and answers SQLSTATE 28P01 as PostgreSQL does.
    let got = '';
    const server: Server = createServer((sock) => {
      let step = 0;
      sock.on('data', (buf) => {
        if (step++ === 0) {
          const ask = Buffer.alloc(9);
          ask.write('R', 0);
          ask.writeInt32BE(8, 1);
          ask.writeInt32BE(3, 5); // AuthenticationCleartextPassword
          sock.write(ask);
          return;
        }
        got = buf.toString('latin1');
        const fields = Buffer.from(
          'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "alice"\0\0',
          'latin1',
        );
        const head = Buffer.alloc(5);
        head.write('E', 0);
        head.writeInt32BE(4 + fields.length, 1);
        sock.end(Buffer.concat([head, fields]));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const err = await openError(`postgres://alice:wrong-pw@127.0.0.1:${port}/mirror`);
      expect(got).toContain('wrong-pw');
      expect(err.reason).toBe('auth');
      expect(err.message).toBe(
        `authentication failed for MIRROR_DB=postgres://alice:********@127.0.0.1:${port}/mirror (password authentication failed for user "alice"); check the user name and password in the URL`,
      );
    } finally {
      server.close();
    }
  });
});

describe('parseMirrorLocation', () => {
  it('file paths are SQLite', () => {
    for (const p of [
      './data/mirror.db',
      '/var/lib/m.db',
      ':memory:',
      'mirror.db',
      'C:\\m\\mirror.db',
      'a:b.db',
    ])
      expect(parseMirrorLocation(p)).toEqual({ kind: 'sqlite', path: p });
  });

  it('postgres:// and postgresql:// URLs are PostgreSQL, masked for display', () => {
    expect(parseMirrorLocation('postgres://u:pw@db:5432/mirror')).toEqual({
      kind: 'postgres',
      url: 'postgres://u:pw@db:5432/mirror',
      masked: 'postgres://u:********@db:5432/mirror',
    });
    expect(parseMirrorLocation('postgresql://db/mirror?sslmode=require').kind).toBe('postgres');
    expect(parseMirrorLocation('postgres:///mirror?host=/run/postgresql').kind).toBe('postgres');
  });

  it('a typo in the scheme is refused with a hint, the password masked', () => {
    for (const v of [
      'postgress://u:pw@db/m',
      'postgre://db/m',
      'postgresq://db/m',
      'pgsql://db/m',
      'Postgress://db/m',
    ]) {
      expect(() => parseMirrorLocation(v)).toThrow(/unknown scheme .*did you mean postgres:\/\//);
    }
    expect(() => parseMirrorLocation('postgress://u:pw@db/m')).toThrow(
      /MIRROR_DB=postgress:\/\/u:\*{8}@db\/m/,
    );
    expect(() => parseMirrorLocation('postgres:db/m')).toThrow(/not a valid PostgreSQL URL/);
    expect(() => parseMirrorLocation('mysql://db/m')).toThrow(/unsupported scheme "mysql:"/);
    expect(() => parseMirrorLocation('file:///tmp/m.db')).toThrow(/unsupported scheme "file:"/);
    expect(() => parseMirrorLocation('  ')).toThrow(/MIRROR_DB is empty/);
    expect(() => parseMirrorLocation('postgres://')).toThrow(/names no host|not a valid/);
  });
});
