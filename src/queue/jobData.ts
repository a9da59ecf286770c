/**
 * What a sync job carries in BullMQ, and the names derived from it: the partition it works on (the key used in
 * `sync_state`/`sync_runs`) and its BullMQ job id. Job data is validated when a job is picked up, so a job
 * written by another version or by hand fails once with a clear reason instead of running half-understood.
 */
import * as z from 'zod';
import { SOURCES } from '../retab/index.ts';
import { partitionKey } from '../sync/index.ts';

/** The one BullMQ queue that carries sync work (under `QUEUE_PREFIX`). */
export const SYNC_QUEUE = 'sync';

const DAY = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a UTC day YYYY-MM-DD');

export const SyncJobDataSchema = z.discriminatedUnion('task', [
  z.object({ task: z.literal('head') }),
  // Any status name: ACTIVE_STATUSES may list one upstream added since this release.
  z.object({ task: z.literal('active'), status: z.string().regex(/^[a-z][a-z0-9_]*$/) }),
  z.object({ task: z.literal('hydrate') }),
  z.object({ task: z.literal('reconcile'), days: z.number().int().min(1).max(90).optional() }),
  z.object({
    task: z.literal('window'),
    day: DAY,
    source: z.enum(SOURCES).optional(),
    /** Sweep the window again from its start instead of resuming from the checkpoint. */
    restart: z.boolean().optional(),
    /** Events from this window are flagged as backfill (alert rules skip them by default). */
    backfill: z.boolean().optional(),
    /** `end`: the walk from the end of a dense day, queued by the walk from its start (src/sync/daySplit.ts). */
    from: z.literal('end').optional(),
  }),
]);
export type SyncJobData = z.infer<typeof SyncJobDataSchema>;
export type SyncTaskName = SyncJobData['task'];

/**
 * The partition key a job works on: `head`, `active:queued`, `window:2026-11-01`, `window:2026-11-01:source=api`,
 * `window:2026-11-01:desc`.
 */
export function partitionOf(data: SyncJobData): string {
  switch (data.task) {
    case 'reconcile':
      return 'reconcile';
    case 'active':
      return partitionKey({ task: 'active', status: data.status });
    case 'window':
      return partitionKey({
        task: 'window',
        day: data.day,
        ...(data.source ? { source: data.source } : {}),
        ...(data.from === 'end' ? { from: 'end' as const } : {}),
      });
    default:
      return partitionKey({ task: data.task });
  }
}

export { mirrorsAllSources, windowSources } from '../sync/index.ts';

/**
 * The BullMQ job id of a partition: the key with `:` replaced by `-` (BullMQ refuses `:` in custom ids), so
 * `window:2026-11-01` → `window-2026-11-01`. Adding a job whose id exists adds nothing: that is the dedup.
 */
export function jobIdOf(partition: string): string {
  return partition.replaceAll(':', '-');
}
