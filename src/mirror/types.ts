/** Options and results of the mirror's write and read helpers (see applyPage.ts, syncState.ts, reads.ts). */
import type { RejectedItem } from '../retab/index.ts';
import type { FenceToken } from './fence.ts';

export type PartitionStatus = 'idle' | 'running' | 'done' | 'failed';

/** A change to one partition's row in `sync_state`, written in the same transaction as its page. */
export interface CheckpointPatch {
  partition: string;
  /** The `after` cursor to resume from (the page's `last_id`); null clears it. */
  cursor?: string | null;
  /** Highest `created_at` (unix s) known complete. */
  watermark?: number | null;
  status?: PartitionStatus;
  pagesDelta?: number;
  jobsDelta?: number;
  lastError?: string | null;
  /** Unix ms of a successful completion. */
  lastSuccessAt?: number;
}

export interface ApplyPageOptions {
  /** Unix ms the page was fetched. Older observations never overwrite newer stored ones. */
  observedAt: number;
  /** Partition key, recorded on quarantined items. */
  partition?: string;
  /** Events from this page are flagged `backfill: true` (alert rules ignore them by default). */
  backfill?: boolean;
  /** Written in the same transaction as the rows and events. */
  checkpoint?: CheckpointPatch;
  /**
   * The lease this page is written under (fence.ts): the transaction commits only while `sync_state.fence`
   * of `fence.partition` equals `fence.token`; otherwise nothing of the page is stored and it rejects with
   * `FencedWriteError`. Without it the write is unconditional (the CLI's `sync`, the library).
   */
  fence?: FenceToken;
  /** Items that failed validation: written to `quarantine` in the same transaction. */
  rejected?: RejectedItem[];
  /**
   * The items were fetched with `include_request` / `include_response`, so a null there is upstream's
   * answer (the job has none; for a response, a completed job), not an omission: it is recorded as known
   * (`has_request` / `has_response`) so hydrate does not ask again. @default none
   */
  payloads?: PayloadsIncluded;
}

export interface PayloadsIncluded {
  request?: boolean;
  response?: boolean;
}

export interface ApplyResult {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Outbox events written. */
  events: number;
  quarantined: number;
}

/** The outbox's event types: declared once, in events/eventModel.ts. */
export type { EventType } from '../events/index.ts';

export interface RunRecord {
  task: string;
  partition: string;
  /** Unix ms. */
  startedAt: number;
}

/** What one task run counts (the `sync_runs` columns of the same names). */
export interface RunCounters {
  requests: number;
  pages: number;
  jobs: number;
  inserted: number;
  updated: number;
  events: number;
  missing: number;
  quarantined: number;
}

export interface RunTotals extends RunCounters {
  outcome: 'success' | 'failed' | 'aborted';
  error?: string | null;
  /** Upstream answers by HTTP status (`network` when none came), retries included. */
  upstreamStatuses?: Record<string, number>;
  /** Unix ms. */
  finishedAt: number;
}
