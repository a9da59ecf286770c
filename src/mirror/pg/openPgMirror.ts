/**
 * Open a PostgreSQL mirror: a `pg` pool of a configurable size, drizzle over it, the schema brought to this
 * build's (migratePg.ts: under an advisory lock; a newer schema is refused). Every failure to open is one
 * line naming MIRROR_DB with the password masked, and says what to fix (see `describePgError`).
 */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { MirrorLocationError, parseMirrorLocation } from '../../mirrorLocation.ts';
import { MirrorOpenError } from '../openMirror.ts';
import { migratePg, SchemaNewerError, SchemaPendingError } from './migratePg.ts';
import * as schema from './schema.ts';
import { watchSessions } from './transaction.ts';

export type PgMirrorDb = NodePgDatabase<typeof schema>;

export interface PgMirror {
  readonly kind: 'postgres';
  /** The URL with its password masked: safe to print. */
  readonly location: string;
  /** The raw pool: set-based statements on hot paths. */
  readonly pool: pg.Pool;
  /** drizzle over the same pool. */
  readonly db: PgMirrorDb;
  /** Ends the pool (waits for checked-out clients to be released). Idempotent. */
  close(): Promise<void>;
}

export interface OpenPgMirrorOptions {
  /** Connections in the pool at most. @default 10 */
  poolSize?: number;
  /** How long to wait for a connection (to the server, or a free one from the pool), ms. @default 10000 */
  connectTimeoutMs?: number;
  /** Do not migrate: the database must already carry this build's schema. @default false */
  readonly?: boolean;
  /** Called before an existing database is upgraded (not when a fresh one is created). */
  onUpgrade?: (info: { location: string; pending: number }) => void;
  /** `application_name` shown in `pg_stat_activity`. @default 'retab-mirror' */
  applicationName?: string;
  /**
   * `idle_in_transaction_session_timeout` of every session, ms: the server ends a session whose transaction
   * sat idle (no statement running) this long, rolling it back and releasing its locks. What bounds how long
   * a writer frozen inside a page transaction (SIGSTOP, a long GC, a paused VM) can make the other workers
   * wait on its job locks; the worker ties it to LEASE_TTL_MS (worker.ts). A page transaction is never idle
   * longer than its in-memory merge between two statements (milliseconds). The resumed process finds its
   * session gone: that transaction fails with `SessionEndedError` (transaction.ts) and the pool drops the
   * connection. 0 turns it off. @default 30000 (LEASE_TTL_MS's default)
   */
  idleInTransactionTimeoutMs?: number;
}

/** Why a PostgreSQL mirror could not be opened; `retryable` when waiting may fix it (server down, starting). */
export class PgMirrorOpenError extends MirrorOpenError {
  constructor(
    message: string,
    readonly reason: 'unreachable' | 'auth' | 'no-database' | 'schema-newer' | 'schema-pending' | 'other',
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** int8 (bigint, OID 20) as a JS number: every value the mirror stores (ms, seqs) is below 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => Number.parseInt(v, 10)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
]);

/**
 * One line for an error met while connecting to `location` (already masked), naming MIRROR_DB and what to
 * do. Server errors by SQLSTATE: 28P01 wrong password, 28000 no such role / refused by pg_hba.conf,
 * 3D000 no such database, 57P03 the server is starting up.
 */
export function describePgError(err: unknown, location: string): PgMirrorOpenError {
  if (err instanceof PgMirrorOpenError) return err;
  if (err instanceof SchemaNewerError) return new PgMirrorOpenError(err.message, 'schema-newer', false);
  if (err instanceof SchemaPendingError) return new PgMirrorOpenError(err.message, 'schema-pending', false);
  const e = err as { code?: string; message?: string };
  const msg = (e.message ?? String(err)).split('\n')[0] ?? '';
  const code = e.code ?? '';
  const at = `MIRROR_DB=${location}`;
  if (
    NETWORK_CODES.has(code) ||
    /timeout (expired|exceeded)|terminated unexpectedly|Connection terminated/i.test(msg)
  )
    return new PgMirrorOpenError(
      `cannot reach PostgreSQL at ${at} (${msg}); check that the server is running and the host and port are right`,
      'unreachable',
      true,
    );
  if (code === '57P03')
    return new PgMirrorOpenError(
      `PostgreSQL at ${at} is starting up (${msg}); retry shortly`,
      'unreachable',
      true,
    );
  if (code === '28P01' || code === '28000')
    return new PgMirrorOpenError(
      `authentication failed for ${at} (${msg}); check the user name and password in the URL`,
      'auth',
      false,
    );
  if (code === '3D000')
    return new PgMirrorOpenError(
      `${msg} at ${at}; create it (createdb) or fix the database name in the URL`,
      'no-database',
      false,
    );
  return new PgMirrorOpenError(`cannot open the PostgreSQL mirror ${at}: ${msg}`, 'other', false);
}

/**
 * Open the PostgreSQL mirror at `url` (`postgres://` or `postgresql://`; parseMirrorLocation's rules).
 * Throws PgMirrorOpenError (one line, password masked) when the URL is not a postgres URL, the server is
 * unreachable, authentication fails, the database is missing, or its schema is newer than this build.
 */
export async function openPgMirror(url: string, opts: OpenPgMirrorOptions = {}): Promise<PgMirror> {
  let where: string;
  try {
    const loc = parseMirrorLocation(url);
    if (loc.kind !== 'postgres') throw new MirrorLocationError(`MIRROR_DB=${url} is not a postgres:// URL`);
    where = loc.masked;
  } catch (err) {
    throw new PgMirrorOpenError((err as Error).message, 'other', false);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    application_name: opts.applicationName ?? 'retab-mirror',
    idle_in_transaction_session_timeout: Math.max(0, Math.trunc(opts.idleInTransactionTimeoutMs ?? 30_000)),
    types,
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener that kills the
  // process. The next query gets a fresh connection (or a clear error).
  pool.on('error', () => {});
  // A checked-out client can lose its session too (the server ended an idle transaction): recorded, not a crash.
  watchSessions(pool);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await pool.end();
  };
  try {
    const client = await pool.connect();
    try {
      await migratePg(client, {
        where: `PostgreSQL mirror ${where}`,
        readonly: opts.readonly ?? false,
        onUpgrade: ({ pending }) => opts.onUpgrade?.({ location: where, pending }),
      });
    } finally {
      client.release();
    }
  } catch (err) {
    await close().catch(() => {});
    throw describePgError(err, where);
  }
  return { kind: 'postgres', location: where, pool, db: drizzle(pool, { schema }), close };
}
