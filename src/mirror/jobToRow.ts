/**
 * Derivation of what the mirror stores for one upstream job: the `jobs` columns (filters as indexed columns,
 * payloads as JSON text), its `job_files` and `job_metadata` rows. Pure: no storage, no clock.
 */
import {
  deriveSource,
  documentTypeOf,
  jobFilenames,
  modelOf,
  projectId,
  workflowNodeId,
} from '../retab/jobFields.ts';
import type { Job, JobSource, JobStatus } from '../retab/schemas.ts';

/** The top-level fields of the upstream contract; anything else an item carries goes to `extra`. */
const KNOWN_FIELDS = new Set([
  'id',
  'object',
  'status',
  'endpoint',
  'request',
  'response',
  'error',
  'created_at',
  'started_at',
  'completed_at',
  'expires_at',
  'organization_id',
  'metadata',
  'attempt_count',
  'last_failure_code',
]);

export interface JobFileRow {
  position: number;
  filename: string;
  documentType: string | null;
}

/** One job as the mirror stores it, before merging with what is already stored. */
export interface JobDraft {
  id: string;
  status: JobStatus;
  endpoint: string;
  /** From this item alone: when it carries no request, the merge recomputes it from the stored project. */
  source: JobSource;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  expiresAt: number;
  organizationId: string;
  /** From the request: null with `files` null when the item has no request (then the stored values stay). */
  projectId: string | null;
  model: string | null;
  workflowId: string | null;
  workflowNodeId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** `attempt_count`; null when the item does not carry it (an upstream from before May 2026). */
  attemptCount: number | null;
  lastFailureCode: string | null;
  /** JSON texts; `request`/`response` null means "not included", never "erased". */
  metadata: string | null;
  request: string | null;
  response: string | null;
  error: string | null;
  extra: string | null;
  /** null when the item carries no request: the stored files stay. */
  files: JobFileRow[] | null;
  metadataPairs: Array<[string, string]>;
  /** The unknown top-level fields (parsed form of `extra`), for snapshots. */
  extraFields: Record<string, unknown> | null;
}

const nonEmpty = (v: string | undefined | null): string | null => (v ? v : null);

/**
 * Job fields (since May 2026) kept in `extra` rather than columns, with the value `rowToJob` serves when a
 * row has none: a job at its default stores nothing for them.
 */
const JSON_FIELD_DEFAULTS: Readonly<Record<string, unknown>> = {
  warnings: null,
  cancelled: false,
  last_attempt_at: null,
};

export function extraFieldsOf(job: Job): Record<string, unknown> | null {
  let extra: Record<string, unknown> | null = null;
  for (const key in job) {
    if (KNOWN_FIELDS.has(key)) continue;
    const value = (job as Record<string, unknown>)[key];
    if (key in JSON_FIELD_DEFAULTS && (value === undefined || value === JSON_FIELD_DEFAULTS[key])) continue;
    extra ??= {};
    extra[key] = (job as Record<string, unknown>)[key];
  }
  return extra;
}

export function jobToRow(job: Job): JobDraft {
  const request = job.request ?? null;
  const metadata = job.metadata ?? null;
  const extraFields = extraFieldsOf(job);
  let files: JobFileRow[] | null = null;
  if (request) {
    files = jobFilenames(request).map((filename, position) => ({
      position,
      filename,
      documentType: documentTypeOf(filename),
    }));
  }
  return {
    id: job.id,
    status: job.status,
    endpoint: job.endpoint,
    source: deriveSource(metadata, request),
    createdAt: job.created_at,
    startedAt: job.started_at ?? null,
    completedAt: job.completed_at ?? null,
    expiresAt: job.expires_at,
    organizationId: job.organization_id,
    projectId: projectId(request),
    model: modelOf(request),
    workflowId: nonEmpty(metadata?.workflow_id),
    workflowNodeId: nonEmpty(workflowNodeId(metadata)),
    errorCode: job.error?.code ?? null,
    errorMessage: job.error?.message ?? null,
    attemptCount: job.attempt_count ?? null,
    lastFailureCode: job.last_failure_code ?? null,
    metadata: metadata ? JSON.stringify(metadata) : null,
    request: request ? JSON.stringify(request) : null,
    response: job.response ? JSON.stringify(job.response) : null,
    error: job.error ? JSON.stringify(job.error) : null,
    extra: extraFields ? JSON.stringify(extraFields) : null,
    files,
    metadataPairs: metadata ? Object.entries(metadata) : [],
    extraFields,
  };
}

/**
 * The wire snapshot carried by events: the job as `rowToJob` rebuilds it from the stored row, without request
 * and response (events stay small; consumers fetch payloads from the mirror when they need them).
 */
export function jobSnapshot(job: Job, extraFields: Record<string, unknown> | null = extraFieldsOf(job)): Job {
  return {
    id: job.id,
    object: 'job',
    status: job.status,
    endpoint: job.endpoint,
    request: null,
    response: null,
    error: job.error ?? null,
    created_at: job.created_at,
    started_at: job.started_at ?? null,
    completed_at: job.completed_at ?? null,
    expires_at: job.expires_at,
    organization_id: job.organization_id,
    metadata: job.metadata ?? null,
    warnings: null,
    cancelled: false,
    attempt_count: job.attempt_count ?? 0,
    last_attempt_at: null,
    last_failure_code: job.last_failure_code ?? null,
    ...extraFields,
  };
}
