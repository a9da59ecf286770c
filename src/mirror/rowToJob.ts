/** Rebuild the upstream wire shape of a job from its mirrored row (for queries, the local API, event snapshots). */
import type { Job } from '../retab/index.ts';
import { type ColumnKey, compileOverColumns, JOB_COLUMN_ENTRIES } from './jobColumns.ts';
import type { jobs } from './schema.ts';

export type JobRow = typeof jobs.$inferSelect;

export interface RowToJobOptions {
  /** Include the stored request (else `request: null`, as upstream list items). @default false */
  includeRequest?: boolean;
  /** Include the stored response. @default false */
  includeResponse?: boolean;
}

/**
 * The value a field of the current contract takes when upstream never sent it for this job (a mirror fed by
 * an older upstream): the defaults Retab's clients assume.
 */
export const CONTRACT_DEFAULTS = {
  warnings: null,
  cancelled: false,
  attempt_count: 0,
  last_attempt_at: null,
  last_failure_code: null,
} as const satisfies Partial<Record<keyof Job, unknown>>;

/** A job's contract fields, any of them possibly absent (see `wireJob`). */
export type WireFields = { readonly [K in keyof Job]?: Job[K] | null };

/**
 * The wire shape of a job, in the key order upstream sends: its contract fields (absent or null ones take
 * null or their `CONTRACT_DEFAULTS` value), then the fields kept in `extra` (JSON-stored contract fields
 * and unknown ones), which win. `withPayloads: false` leaves request and response null, as list items and
 * event snapshots carry them. The one place the local API's and the events' job shape is built.
 */
export function wireJob(f: WireFields, extra: Record<string, unknown> | null, withPayloads = true): Job {
  const job: Job = {
    id: f.id as string,
    object: 'job',
    status: f.status as Job['status'],
    endpoint: f.endpoint as string,
    request: withPayloads ? (f.request ?? null) : null,
    response: withPayloads ? (f.response ?? null) : null,
    error: f.error ?? null,
    created_at: f.created_at as number,
    started_at: f.started_at ?? null,
    completed_at: f.completed_at ?? null,
    expires_at: f.expires_at as number,
    organization_id: f.organization_id as string,
    metadata: f.metadata ?? null,
    warnings: f.warnings ?? CONTRACT_DEFAULTS.warnings,
    cancelled: f.cancelled ?? CONTRACT_DEFAULTS.cancelled,
    attempt_count: f.attempt_count ?? CONTRACT_DEFAULTS.attempt_count,
    last_attempt_at: f.last_attempt_at ?? CONTRACT_DEFAULTS.last_attempt_at,
    last_failure_code: f.last_failure_code ?? CONTRACT_DEFAULTS.last_failure_code,
  };
  return extra ? Object.assign(job, extra) : job;
}

/** Columns a read must select for `rowToJob`: the served ones and `extra` (as `[sql, row key]`). */
export const ROW_TO_JOB_COLUMNS: readonly (readonly [string, ColumnKey])[] = JOB_COLUMN_ENTRIES.flatMap(
  ([k, c]) => ((c.kind === 'upstream' && c.wire) || k === 'extra' ? [[c.sql, k] as const] : []),
);

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** A row's served columns by wire name, JSON parsed (`{ created_at: r.createdAt, error: parse(r.error), … }`). */
const servedFields: (r: JobRow) => Record<string, unknown> = compileOverColumns(
  { parse },
  'r',
  `return { ${JOB_COLUMN_ENTRIES.flatMap(([k, c]) =>
    c.kind === 'upstream' && c.wire ? [`${c.wire}: ${c.type === 'json' ? `parse(r.${k})` : `r.${k}`}`] : [],
  ).join(', ')} };`,
);

/**
 * The job as the API shows it (see `wireJob`): fields of the current contract that upstream never sent for
 * this job take the defaults Retab's clients assume: `warnings: null`, `cancelled: false`,
 * `attempt_count: 0`, `last_attempt_at: null`, `last_failure_code: null`.
 */
export function rowToJob(row: JobRow, opts: RowToJobOptions = {}): Job {
  const fields = servedFields(row);
  if (opts.includeRequest) fields.request = parse(row.request);
  if (opts.includeResponse) fields.response = parse(row.response);
  return wireJob(fields, parse(row.extra) as Record<string, unknown> | null);
}
