/**
 * The PostgreSQL advisory locks the store takes, all transaction-scoped (`pg_advisory_xact_lock`, released
 * at commit or rollback) and all in the two-key form `(class, key)`, so the classes never collide with each
 * other nor with another application's one-key locks. Advisory locks are per database.
 *
 * Order, the one rule that keeps concurrent writers free of deadlocks: a transaction takes its JOB locks
 * first (ascending key, in one statement), then the OUTBOX lock last, just before appending events. MIGRATE
 * is only ever taken alone.
 */
import type { PoolClient } from 'pg';

/** 'RTMR': schema migrations (one key). */
export const LOCK_CLASS_MIGRATE = 0x52544d52;
/** 'RTMO': outbox appends (one key), see appendEvents.ts. */
export const LOCK_CLASS_OUTBOX = 0x52544d4f;
/** 'RTMJ': one key per job, `hashtext(id)`: every writer of a job holds it from its read to its commit. */
export const LOCK_CLASS_JOB = 0x52544d4a;

/**
 * Lock the jobs `ids` for this transaction, ascending by key, in one round trip (a sorted subquery feeds
 * the lock calls in its order). Two ids sharing a hash share a lock: that only serialises a little more.
 * Unlike `SELECT … FOR UPDATE`, it also covers ids not stored yet, so two writers inserting the same new job
 * cannot both insert it nor deadlock on the unique index.
 */
export async function lockJobs(client: PoolClient, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await client.query(
    `SELECT count(pg_advisory_xact_lock($1, k)) FROM
      (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::text[]) AS id ORDER BY k) AS keys`,
    [LOCK_CLASS_JOB, ids],
  );
}
