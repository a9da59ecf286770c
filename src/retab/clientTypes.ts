/**
 * The client's public surface (implemented by `createRetabClient` in `client.ts`). Declared on its own so the
 * sync engine and the tests code against one contract.
 */
import type { Job, JobList, ListJobsParams, RetrieveJobOptions } from './schemas.ts';

/** An upstream list item that failed validation: kept with its raw value so the sync can quarantine it. */
export interface RejectedItem {
  /** Position in the page's `data`. */
  index: number;
  /** The item's `id` when it had a readable one. */
  id: string | null;
  raw: unknown;
  /** One line: which fields were wrong. */
  reason: string;
  /** The zod issues, as plain objects. */
  issues: unknown[];
}

/** A list page: the valid jobs plus any items that failed validation (never silently dropped). */
export interface JobPage extends JobList {
  rejected: RejectedItem[];
}

/** Called once per HTTP attempt (retries included): for request counting and metrics. */
export interface AttemptInfo {
  method: string;
  /** Path without query, e.g. `/jobs` or `/jobs/job_x`. */
  path: string;
  attempt: number;
  /** HTTP status, or undefined for connection failures and timeouts. */
  status?: number;
  durationMs: number;
  error?: Error;
  /** The answer's `Date` header (upstream's clock), unix ms, when it sent a readable one. */
  serverDate?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  onAttempt?: (info: AttemptInfo) => void;
  /**
   * Called just before each HTTP attempt leaves (after any pause and pacing): the earliest moment upstream
   * could have read the state it answers with. The sync dates its observations by it.
   */
  onSend?: () => void;
}

export interface IterPagesOptions extends RequestOptions {
  /** Resume after this job id (a stored `last_id`): walks forward with `after`. */
  startAfter?: string;
  /** Walk backward with `before` from this job id (a stored `first_id`). */
  startBefore?: string;
}

export interface RetabClient {
  readonly baseUrl: string;
  /** HTTP attempts sent by this client so far, retries included. */
  readonly requestCount: number;
  listJobs(params?: ListJobsParams, opts?: RequestOptions): Promise<JobPage>;
  retrieveJob(id: string, opts?: RetrieveJobOptions & RequestOptions): Promise<Job>;
  /** Pages to the end of the listing (forward with `after`, or backward with `before` when `startBefore`). */
  iterPages(params?: ListJobsParams, opts?: IterPagesOptions): AsyncGenerator<JobPage, void, undefined>;
  /** Every valid job of `iterPages`, in order. */
  iterJobs(params?: ListJobsParams, opts?: IterPagesOptions): AsyncGenerator<Job, void, undefined>;
}
