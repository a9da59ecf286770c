/**
 * Per-partition sync checkpoints (`sync_state`). applyPage writes a page's checkpoint in the page's own
 * transaction; tasks call saveCheckpoint directly to mark a partition running, done or failed.
 */
import { asc, eq, sql } from 'drizzle-orm';
import { FencedWriteError, type FenceToken } from './fence.ts';
import type { Mirror } from './openMirror.ts';
import { prepared } from './prepared.ts';
import { syncState } from './schema.ts';
import type { SyncStateRow } from './store.ts';
import type { CheckpointPatch } from './types.ts';

// Fields absent from the patch keep their stored value; deltas add up; `last_run_at` is stamped when a run starts.
const UPSERT_STATE = `INSERT INTO sync_state
  (partition, cursor, watermark, status, pages, jobs, last_run_at, last_success_at, last_error, updated_at)
  VALUES (@partition, @cursor, @watermark, coalesce(@status, 'idle'), @pages, @jobs, @lastRunAt,
    @lastSuccessAt, @lastError, @now)
  ON CONFLICT (partition) DO UPDATE SET
    cursor = CASE WHEN @setCursor THEN excluded.cursor ELSE cursor END,
    watermark = CASE WHEN @setWatermark THEN excluded.watermark ELSE watermark END,
    status = coalesce(@status, status),
    pages = pages + excluded.pages,
    jobs = jobs + excluded.jobs,
    last_run_at = coalesce(excluded.last_run_at, last_run_at),
    last_success_at = coalesce(excluded.last_success_at, last_success_at),
    last_error = CASE WHEN @setLastError THEN excluded.last_error ELSE last_error END,
    updated_at = excluded.updated_at`;

/**
 * Apply a checkpoint patch to its partition's row (created on first use).
 * @param now unix ms stamped as `updated_at` (and `last_run_at` when the patch sets status `running`).
 */
export function saveCheckpoint(mirror: Mirror, patch: CheckpointPatch, now: number = Date.now()): void {
  if (!patch.partition) throw new Error('saveCheckpoint: patch.partition is required (e.g. "head")');
  prepared(mirror, UPSERT_STATE).run({
    partition: patch.partition,
    cursor: patch.cursor ?? null,
    setCursor: patch.cursor !== undefined ? 1 : 0,
    watermark: patch.watermark ?? null,
    setWatermark: patch.watermark !== undefined ? 1 : 0,
    status: patch.status ?? null,
    pages: patch.pagesDelta ?? 0,
    jobs: patch.jobsDelta ?? 0,
    lastRunAt: patch.status === 'running' ? now : null,
    lastSuccessAt: patch.lastSuccessAt ?? null,
    lastError: patch.lastError ?? null,
    setLastError: patch.lastError !== undefined ? 1 : 0,
    now,
  });
}

const TAKE_FENCE = `INSERT INTO sync_state (partition, updated_at, fence) VALUES (?, ?, 1)
  ON CONFLICT (partition) DO UPDATE SET fence = fence + 1 RETURNING fence`;

/** The next fencing token of `partition` (SyncStateStore.takeFence). */
export function takeFence(mirror: Mirror, partition: string, now: number = Date.now()): number {
  return (prepared(mirror, TAKE_FENCE).get(partition, now) as { fence: number }).fence;
}

/**
 * Throw FencedWriteError unless `fence.token` is the partition's current token. Call it inside the write
 * transaction (BEGIN IMMEDIATE: no other writer can bump the token between this read and the commit).
 */
export function checkFence(mirror: Mirror, fence: FenceToken): void {
  const row = prepared(mirror, 'SELECT fence FROM sync_state WHERE partition = ?').get(fence.partition) as
    | { fence: number }
    | undefined;
  if (row?.fence !== fence.token) throw new FencedWriteError(fence.partition, fence.token, row?.fence);
}

/** `saveCheckpoint` made conditional on `fence` (see checkFence), in its own immediate transaction. */
export function saveFencedCheckpoint(
  mirror: Mirror,
  patch: CheckpointPatch,
  now: number = Date.now(),
  fence?: FenceToken,
): void {
  if (!fence) {
    saveCheckpoint(mirror, patch, now);
    return;
  }
  mirror.sqlite
    .transaction(() => {
      checkFence(mirror, fence);
      saveCheckpoint(mirror, patch, now);
    })
    .immediate();
}

export function getSyncState(mirror: Mirror, partition: string): SyncStateRow | undefined {
  return mirror.db.select().from(syncState).where(eq(syncState.partition, partition)).get();
}

/** Every partition's row, ordered by partition; only those starting with `prefix` when given. */
export function listSyncStates(mirror: Mirror, prefix?: string): SyncStateRow[] {
  const q = mirror.db.select().from(syncState);
  const filtered =
    prefix !== undefined && prefix !== ''
      ? q.where(sql`substr(${syncState.partition}, 1, ${prefix.length}) = ${prefix}`)
      : q;
  return filtered.orderBy(asc(syncState.partition)).all();
}
