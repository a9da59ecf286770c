/**
 * The simulator's in-memory job record: compact (a million fit in a few hundred MB) because request and
 * response payloads are rebuilt on demand from the job's own seed, the same bytes every time.
 */
import { deriveSource, documentTypeOf, jobFilenames, workflowNodeId } from '../retab/jobFields.ts';
import {
  JOB_TTL_SECONDS,
  type Job,
  type JobError,
  type JobResponse,
  type JobSource,
  type JobStatus,
} from '../retab/schemas.ts';
import { extensionType, generatedFilenames } from './catalog.ts';
import { buildRequest, buildResponse } from './payloads.ts';

export class SimJob {
  /** Bumped on every status change so that lifecycle events scheduled for an older state are ignored. */
  gen = 0;
  startedAt: number | null = null;
  completedAt: number | null = null;
  error: JobError | null = null;
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
  };
}
