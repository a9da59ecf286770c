/**
 * Upstream answered 404 for jobs the mirror holds (the rules of ../markMissing.ts): record it and emit
 * `job.missing_upstream` once per disappearance, in one transaction that locks the jobs as applyPagePg does
 * (same order, so it never deadlocks with a page being written).
 */
import type pg from 'pg';
import type { JobStatus } from '../../retab/index.ts';
import type { MarkMissingOptions } from '../markMissing.ts';
import { type JobRow, rowToJob } from '../rowToJob.ts';
import { appendEvents, type NewEvent } from './appendEvents.ts';
import { PG_JOB_ROW_COLUMNS } from './jobColumnsPg.ts';
import { lockJobs } from './locks.ts';
import { inTransaction } from './transaction.ts';

/**
 * Mark `ids` as missing upstream at `observedAt` (unix ms) in one transaction.
 * @returns how many jobs were newly marked (each with one `job.missing_upstream` event).
 */
export async function markMissingPg(
  pool: pg.Pool,
  ids: readonly string[],
  observedAt: number,
  opts: MarkMissingOptions = {},
): Promise<number> {
  if (ids.length === 0) return 0;
  const unique = [...new Set(ids)];
  return inTransaction(pool, async (client) => {
    await lockJobs(client, unique);
    const rows = await client.query<JobRow>(
      `SELECT ${PG_JOB_ROW_COLUMNS} FROM jobs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [unique],
    );
    const byId = new Map(rows.rows.map((r) => [r.id, r]));
    const marked: string[] = [];
    const events: NewEvent[] = [];
    for (const id of unique) {
      const row = byId.get(id);
      // Unknown, already marked, or seen after this 404 was observed (it came back): nothing to report.
      if (!row || row.upstreamMissingAt !== null || observedAt < row.observedAt) continue;
      marked.push(id);
      events.push({
        jobId: id,
        type: 'job.missing_upstream',
        from: row.status as JobStatus,
        to: null,
        occurredAt: observedAt,
        observedAt,
        inferred: false,
        backfill: opts.backfill ?? false,
        snapshotJson: JSON.stringify(rowToJob(row)),
      });
    }
    if (marked.length === 0) return 0;
    await client.query('UPDATE jobs SET upstream_missing_at = $1 WHERE id = ANY($2::text[])', [
      observedAt,
      marked,
    ]);
    await appendEvents(client, events);
    return marked.length;
  });
}
