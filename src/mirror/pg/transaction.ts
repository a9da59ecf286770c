/**
 * One transaction on one pooled connection (READ COMMITTED, PostgreSQL's default): BEGIN, the callback,
 * COMMIT; ROLLBACK and rethrow on any error. A connection whose ROLLBACK fails is destroyed, not returned to
 * the pool in an unknown state. `begin` opens it (default `BEGIN`; `inReadOnlySnapshot` passes its own).
 *
 * A session the server ended under a transaction (`idle_in_transaction_session_timeout`, SQLSTATE 25P03: this
 * process was paused inside it past the timeout, openPgMirror.ts) makes the transaction reject with one
 * `SessionEndedError` saying so, whatever statement met the dead connection first.
 */
import type pg from 'pg';

/** The error each pooled client's session ended with (recorded by `watchSessions`). */
const sessionErrors = new WeakMap<pg.ClientBase, Error>();

/**
 * Record the error a pooled client emits when its session ends while it is checked out (node-postgres emits
 * it on the client; with no listener that kills the process). Its pending and next queries fail on their own.
 */
export function watchSessions(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      if (!sessionErrors.has(client)) sessionErrors.set(client, err);
    });
  });
}

/** SQLSTATE of `idle_in_transaction_session_timeout` ending a session. */
const IDLE_IN_TRANSACTION_TIMEOUT = '25P03';

/**
 * PostgreSQL ended this transaction's session because it sat idle longer than
 * `idle_in_transaction_session_timeout`: nothing of it was committed, and its locks were released for the
 * other writers. The connection is dropped; retrying on a fresh one can succeed (`code` is 25P03).
 */
export class SessionEndedError extends Error {
  override name = 'SessionEndedError';
  readonly code = IDLE_IN_TRANSACTION_TIMEOUT;
  constructor(cause: Error) {
    super(
      'PostgreSQL ended this transaction: it sat idle longer than idle_in_transaction_session_timeout (was this process paused: SIGSTOP, a long GC, a frozen VM?); nothing of it was committed',
      { cause },
    );
  }
}

/**
 * The error to report for `err`, met in a transaction on `client`: the server's 25P03 reaches either the
 * statement it interrupted or, between statements, the client itself.
 */
function transactionError(client: pg.PoolClient, err: unknown): unknown {
  const ended = [err, sessionErrors.get(client)].find(
    (e): e is Error => e instanceof Error && (e as { code?: unknown }).code === IDLE_IN_TRANSACTION_TIMEOUT,
  );
  return ended && !(ended instanceof SessionEndedError) ? new SessionEndedError(ended) : err;
}

export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => {
      broken = e;
    });
    throw transactionError(client, err);
  } finally {
    client.release(broken);
  }
}

/**
 * A read-only REPEATABLE READ transaction (one snapshot for every statement of `fn`) whose statements are
 * each cancelled past `timeoutMs` (SQLSTATE 57014): the frame of every user query.
 */
export async function inReadOnlySnapshot<T>(
  pool: pg.Pool,
  timeoutMs: number,
  fn: (c: pg.PoolClient) => Promise<T>,
): Promise<T> {
  // One round trip opens it: BEGIN and SET LOCAL in one simple-protocol message.
  return inTransaction(
    pool,
    fn,
    `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, Math.trunc(timeoutMs))}`,
  );
}
