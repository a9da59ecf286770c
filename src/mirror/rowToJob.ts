/** Rebuild the upstream wire shape of a job from its mirrored row (for queries, the local API, event snapshots). */
import type { Job } from '../retab/schemas.ts';
import { type ColumnKey, JOB_COLUMN_ENTRIES } from './jobColumns.ts';
import type { jobs } from './schema.ts';

export type JobRow = typeof jobs.$inferSelect;

export interface RowToJobOptions {
  /** Include the stored request (else `request: null`, as upstream list items). @default false */
  includeRequest?: boolean;
  /** Include the stored response. @default false */
  includeResponse?: boolean;
}

/**
 * A job's fields in the order upstream sends them, each with the value it takes when upstream never sent it
 * for this job (a mirror fed by an older upstream): the defaults Retab's clients assume.
 */
export const CONTRACT_DEFAULTS: Readonly<Record<string, unknown>> = {
  id: null,
  object: 'job',
  status: null,
  endpoint: null,
  request: null,
  response: null,
  error: null,
  created_at: null,
  started_at: null,
  completed_at: null,
  expires_at: null,
  organization_id: null,
  metadata: null,
  warnings: null,
  cancelled: false,
  attempt_count: 0,
  last_attempt_at: null,
  last_failure_code: null,
};

/**
 * The wire shape of a job from its contract fields (`fields`, by wire name; absent or null ones take their
 * default) and the fields kept in `extra` (JSON-stored contract fields and unknown ones, which come last and
 * win). Key order as upstream sends it. The one place the local API's and the events' job shape is built.
 */
export function wireJob(
  fields: Readonly<Record<string, unknown>>,
  extra: Record<string, unknown> | null,
): Job {
  const out: Record<string, unknown> = {};
  for (const k in CONTRACT_DEFAULTS) out[k] = fields[k] ?? CONTRACT_DEFAULTS[k];
  out.object = 'job';
  return (extra ? Object.assign(out, extra) : out) as Job;
}

/** The columns the API serves: [row key, wire name, JSON text?]. */
const SERVED: readonly (readonly [ColumnKey, string, boolean])[] = JOB_COLUMN_ENTRIES.flatMap(([k, c]) =>
  c.kind === 'upstream' && c.wire ? [[k, c.wire, c.type === 'json'] as const] : [],
);

/** Columns a read must select for `rowToJob`: the served ones and `extra` (as `[sql, row key]`). */
export const ROW_TO_JOB_COLUMNS: readonly (readonly [string, ColumnKey])[] = JOB_COLUMN_ENTRIES.flatMap(
  ([k, c]) => ((c.kind === 'upstream' && c.wire) || k === 'extra' ? [[c.sql, k] as const] : []),
);

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/**
 * The job as the API shows it (see `wireJob`): fields of the current contract that upstream never sent for
 * this job take the defaults Retab's clients assume: `warnings: null`, `cancelled: false`,
 * `attempt_count: 0`, `last_attempt_at: null`, `last_failure_code: null`.
 */
export function rowToJob(row: JobRow, opts: RowToJobOptions = {}): Job {
  const r = row as unknown as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const [key, wire, isJson] of SERVED) fields[wire] = isJson ? parse(r[key] as string | null) : r[key];
  if (opts.includeRequest) fields.request = parse(row.request);
  if (opts.includeResponse) fields.response = parse(row.response);
  return wireJob(fields, parse(row.extra) as Record<string, unknown> | null);
}
