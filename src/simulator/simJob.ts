/**
 * The simulator's in-memory job record: compact (a million fit in a few hundred MB) because request and
 * response payloads are rebuilt on demand from the job's own seed, the same bytes every time.
 */
import {
  deriveSource,
  documentTypeOf,
  JOB_TTL_SECONDS,
  type Job,
  type JobError,
  type JobResponse,
  type JobSource,
  type JobStatus,
  type JobWarning,
  jobFilenames,
  workflowNodeId,
} from '../retab/index.ts';
import { extensionType, generatedFilenames } from './catalog.ts';
import { buildRequest, buildResponse } from './payloads.ts';

export class SimJob {
  /** Bumped on every status change so that lifecycle events scheduled for an older state are ignored. */
  gen = 0;
  startedAt: number | null = null;
  completedAt: number | null = null;
  error: JobError | null = null;
  /** Execution attempts: one more each time a runner picks the job up (`in_progress`). */
  attemptCount = 0;
  lastAttemptAt: number | null = null;
  /** The code of the last failed attempt; kept across retries, as upstream does. */
  lastFailureCode: string | null = null;
  /** Cancelled on purpose (by `cancel`, or the lifecycle's cancellations); cleared by a retry. */
  cancelled = false;
  readonly source: JobSource;

  constructor(
    readonly id: string,
    readonly createdAt: number,
    public status: JobStatus,
    readonly endpoint: string,
    readonly metadata: Record<string, string> | null,
    readonly model: string | null,
    readonly projectId: string | null,
    /** Generated jobs: the extension of each file (its name is rebuilt from `seed`); null for posted jobs. */
    readonly exts: string | readonly string[] | null,
    /** Seed of the generated payloads. */
    readonly seed: number,
    /** The request as posted (POST /v1/jobs); null for generated jobs, whose request is rebuilt from `seed`. */
    readonly postedRequest: Record<string, unknown> | null = null,
  ) {
    this.source = deriveSource(metadata, projectId === null ? null : { project_id: projectId });
  }

  get expiresAt(): number {
    return this.createdAt + JOB_TTL_SECONDS;
  }

  /** Every request filename (`document.filename`, `documents[].filename`). */
  get filenames(): string[] {
    if (this.postedRequest !== null) return jobFilenames(this.postedRequest);
    return this.exts === null ? [] : generatedFilenames(this.seed, this.createdAt, this.exts);
  }

  get workflowNodeId(): string | null {
    return workflowNodeId(this.metadata);
  }

  get documentTypes(): string[] {
    if (typeof this.exts === 'string') return [extensionType(this.exts)];
    if (this.exts !== null) return this.exts.map(extensionType);
    const out: string[] = [];
    for (const f of this.filenames) {
      const t = documentTypeOf(f);
      if (t !== null) out.push(t);
    }
    return out;
  }
}

export interface IncludeOptions {
  includeRequest: boolean;
  includeResponse: boolean;
}

export const INCLUDE_ALL: IncludeOptions = { includeRequest: true, includeResponse: true };

/** One completed job in 40 (by its seed, no random draw) carries a warning, as upstream's advisories. */
function warningsOf(rec: SimJob): JobWarning[] | null {
  if (rec.status !== 'completed' || rec.seed % 40 !== 7) return null;
  return [
    {
      code: 'low_ocr_confidence',
      message: 'Some pages were read with low OCR confidence; check the extracted values.',
      details: { pages: [1 + (rec.seed % 3)] },
    },
  ];
}

/** The wire form of a record. `request`/`response` are null unless included, as in the upstream list. */
export function toJob(rec: SimJob, organizationId: string, include: IncludeOptions): Job {
  const response: JobResponse | null =
    include.includeResponse && rec.status === 'completed' ? buildResponse(rec) : null;
  return {
    id: rec.id,
    object: 'job',
    status: rec.status,
    endpoint: rec.endpoint,
    request: include.includeRequest
      ? rec.postedRequest
        ? structuredClone(rec.postedRequest)
        : buildRequest(rec)
      : null,
    response,
    error: rec.error ? { ...rec.error } : null,
    created_at: rec.createdAt,
    started_at: rec.startedAt,
    completed_at: rec.completedAt,
    expires_at: rec.expiresAt,
    organization_id: organizationId,
    metadata: rec.metadata ? { ...rec.metadata } : null,
    warnings: warningsOf(rec),
    cancelled: rec.cancelled,
    attempt_count: rec.attemptCount,
    last_attempt_at: rec.lastAttemptAt,
    last_failure_code: rec.lastFailureCode,
  };
}
