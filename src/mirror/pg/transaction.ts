/**
 * One transaction on one pooled connection (READ COMMITTED, PostgreSQL's default): BEGIN, the callback,
 * COMMIT; ROLLBACK and rethrow on any error. A connection whose ROLLBACK fails is destroyed, not returned to
 * the pool in an unknown state.
 */
import type pg from 'pg';

export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
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
