/**
 * One transaction on one pooled connection (READ COMMITTED, PostgreSQL's default): BEGIN, the callback,
 * COMMIT; ROLLBACK and rethrow on any error. A connection whose ROLLBACK fails is destroyed, not returned to
 * the pool in an unknown state. `begin` opens it (default `BEGIN`; `inReadOnlySnapshot` passes its own).
 */
import type pg from 'pg';

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
    throw err;
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
