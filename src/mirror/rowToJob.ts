/** Rebuild the upstream wire shape of a job from its mirrored row (for queries, the local API, event snapshots). */
import type { Job } from '../retab/schemas.ts';
import type { jobs } from './schema.ts';

export type JobRow = typeof jobs.$inferSelect;

export interface RowToJobOptions {
  /** Include the stored request (else `request: null`, as upstream list items). @default false */
  includeRequest?: boolean;
  /** Include the stored response. @default false */
  includeResponse?: boolean;
}

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/**
 * The job as the API shows it. Fields of the current contract that upstream never sent for this job (a
 * mirror fed by an older upstream) take the defaults Retab's clients assume: `warnings: null`,
 * `cancelled: false`, `attempt_count: 0`, `last_attempt_at: null`, `last_failure_code: null`.
 */
export function rowToJob(row: JobRow, opts: RowToJobOptions = {}): Job {
  const extra = (parse(row.extra) as Record<string, unknown> | null) ?? {};
  // Key order as upstream sends it; `extra` fills in the JSON-stored fields (and any unknown ones) last.
  return {
    id: row.id,
    object: 'job',
    status: row.status as Job['status'],
    endpoint: row.endpoint,
    request: opts.includeRequest ? (parse(row.request) as Job['request']) : null,
    response: opts.includeResponse ? (parse(row.response) as Job['response']) : null,
    error: parse(row.error) as Job['error'],
    created_at: row.createdAt,
    started_at: row.startedAt,
    completed_at: row.completedAt,
    expires_at: row.expiresAt,
    organization_id: row.organizationId,
    metadata: parse(row.metadata) as Job['metadata'],
    warnings: null,
    cancelled: false,
    attempt_count: row.attemptCount ?? 0,
    last_attempt_at: null,
    last_failure_code: row.lastFailureCode ?? null,
    ...extra,
  };
}
