/** Per-partition sync checkpoints (`sync_state`) on PostgreSQL: the same rules as ../syncState.ts. */
import { asc, eq, sql } from 'drizzle-orm';
import type pg from 'pg';
import { FencedWriteError, type FenceToken } from '../fence.ts';
import type { CheckpointPatch } from '../types.ts';
import type { PgMirrorDb } from './openPgMirror.ts';
import { pgText } from './pgText.ts';
import { syncState } from './schema.ts';
import { inTransaction } from './transaction.ts';

export type PgSyncStateRow = typeof syncState.$inferSelect;

// Fields absent from the patch keep their stored value; deltas add up; `last_run_at` is stamped when a run starts.
const UPSERT_STATE = `INSERT INTO sync_state AS s
  (partition, cursor, watermark, status, pages, jobs, last_run_at, last_success_at, last_error, updated_at)
  VALUES ($1, $2, $3, coalesce($4::text, 'idle'), $5, $6, $7, $8, $9, $10)
  ON CONFLICT (partition) DO UPDATE SET
    cursor = CASE WHEN $11::boolean THEN excluded.cursor ELSE s.cursor END,
    watermark = CASE WHEN $12::boolean THEN excluded.watermark ELSE s.watermark END,
    status = coalesce($4::text, s.status),
    pages = s.pages + excluded.pages,
    jobs = s.jobs + excluded.jobs,
    last_run_at = coalesce(excluded.last_run_at, s.last_run_at),
    last_success_at = coalesce(excluded.last_success_at, s.last_success_at),
    last_error = CASE WHEN $13::boolean THEN excluded.last_error ELSE s.last_error END,
    updated_at = excluded.updated_at`;

/**
 * Apply a checkpoint patch to its partition's row (created on first use), on `q` (the pool, or a client
 * inside a page's transaction).
 * @param now unix ms stamped as `updated_at` (and `last_run_at` when the patch sets status `running`).
 */
export async function saveCheckpointPg(
  q: pg.Pool | pg.PoolClient,
  patch: CheckpointPatch,
  now: number = Date.now(),
): Promise<void> {
  if (!patch.partition) throw new Error('saveCheckpoint: patch.partition is required (e.g. "head")');
  await q.query(UPSERT_STATE, [
    pgText(patch.partition),
    pgText(patch.cursor ?? null),
    patch.watermark ?? null,
    patch.status ?? null,
    patch.pagesDelta ?? 0,
    patch.jobsDelta ?? 0,
    patch.status === 'running' ? now : null,
    patch.lastSuccessAt ?? null,
    pgText(patch.lastError ?? null),
    now,
    patch.cursor !== undefined,
    patch.watermark !== undefined,
    patch.lastError !== undefined,
  ]);
}

const TAKE_FENCE = `INSERT INTO sync_state AS s (partition, updated_at, fence) VALUES ($1, $2, 1)
  ON CONFLICT (partition) DO UPDATE SET fence = s.fence + 1 RETURNING fence`;

/** The next fencing token of `partition` (SyncStateStore.takeFence); one statement, atomic. */
export async function takeFencePg(
  pool: pg.Pool,
  partition: string,
  now: number = Date.now(),
): Promise<number> {
  const r = await pool.query<{ fence: string | number }>(TAKE_FENCE, [pgText(partition), now]);
  return Number(r.rows[0]?.fence);
}

/**
 * Reject with FencedWriteError unless `fence.token` is the partition's current token. Inside the write
 * transaction: `FOR UPDATE` holds the row until commit, so a `takeFence` either committed before (and this
 * sees its token) or waits for this commit (and its holder then reads what this committed). Every fenced
 * writer takes this lock last, after its job locks, so lock order is the same for all writers.
 */
export async function checkFencePg(c: pg.PoolClient, fence: FenceToken): Promise<void> {
  const r = await c.query<{ fence: string | number }>(
    'SELECT fence FROM sync_state WHERE partition = $1 FOR UPDATE',
    [pgText(fence.partition)],
  );
  const current = r.rows[0] === undefined ? undefined : Number(r.rows[0].fence);
  if (current !== fence.token) throw new FencedWriteError(fence.partition, fence.token, current);
}

/** `saveCheckpointPg` made conditional on `fence` (see checkFencePg), in its own transaction. */
export async function saveFencedCheckpointPg(
  pool: pg.Pool,
  patch: CheckpointPatch,
  now: number = Date.now(),
  fence?: FenceToken,
): Promise<void> {
  if (!fence) return saveCheckpointPg(pool, patch, now);
  await inTransaction(pool, async (c) => {
    await checkFencePg(c, fence);
    await saveCheckpointPg(c, patch, now);
  });
}

export async function getSyncStatePg(db: PgMirrorDb, partition: string): Promise<PgSyncStateRow | undefined> {
  const rows = await db.select().from(syncState).where(eq(syncState.partition, partition));
  return rows[0];
}

/** Every partition's row, ordered by partition (byte order, as SQLite); only those starting with `prefix`. */
export async function listSyncStatesPg(db: PgMirrorDb, prefix?: string): Promise<PgSyncStateRow[]> {
  const q = db.select().from(syncState);
  const filtered =
    prefix !== undefined && prefix !== ''
      ? q.where(sql`substr(${syncState.partition}, 1, ${prefix.length}) = ${prefix}`)
      : q;
  return filtered.orderBy(asc(syncState.partition));
}
