/**
 * Upstream answered 404 for jobs the mirror holds: record it and emit `job.missing_upstream`, once per
 * disappearance. The jobs stay: retention past upstream expiry is a feature. A later observation of the job
 * clears the mark (applyPage), so a second disappearance is reported again.
 */
import type { JobStatus } from '../retab/index.ts';
import type { Mirror } from './openMirror.ts';
import { eventWriter } from './outbox.ts';
import { prepared } from './prepared.ts';
import { getJobRow } from './reads.ts';
import { type JobRow, rowToJob } from './rowToJob.ts';

import type { MarkMissingOptions } from './store.ts';

export type { MarkMissingOptions } from './store.ts';

const MARK = 'UPDATE jobs SET upstream_missing_at = ? WHERE id = ?';

function markInTransaction(
  mirror: Mirror,
  ids: readonly string[],
  observedAt: number,
  opts: MarkMissingOptions,
): number {
  const write = eventWriter(mirror);
  let marked = 0;
  for (const id of ids) {
    const row: JobRow | undefined = getJobRow(mirror, id);
    // Unknown, already marked, or seen after this 404 was observed (it came back): nothing to report.
    if (!row || row.upstreamMissingAt !== null || observedAt < row.observedAt) continue;
    prepared(mirror, MARK).run(observedAt, id);
    write(
      id,
      'job.missing_upstream',
      row.status as JobStatus,
      null,
      observedAt,
      observedAt,
      false,
      opts.backfill ?? false,
      JSON.stringify(rowToJob(row)),
    );
    marked++;
  }
  return marked;
}

/**
 * Mark `ids` as missing upstream at `observedAt` (unix ms) in one transaction.
 * @returns how many jobs were newly marked (each with one `job.missing_upstream` event).
 */
export function markMissing(
  mirror: Mirror,
  ids: readonly string[],
  observedAt: number,
  opts: MarkMissingOptions = {},
): number {
  // IMMEDIATE for the same reason as applyPage: read-then-write must not race another writer.
  return mirror.sqlite.transaction(markInTransaction).immediate(mirror, ids, observedAt, opts);
}
