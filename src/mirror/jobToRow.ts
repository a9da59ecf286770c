/**
 * Derivation of what the mirror stores for one upstream job: the `jobs` columns (declared in jobColumns.ts:
 * filters as indexed columns, payloads as JSON text), its `job_files` and `job_metadata` rows. Pure: no
 * storage, no clock.
 */

import type { Job } from '../retab/index.ts';
import { documentTypeOf, jobFilenames } from '../retab/index.ts';
import { type DraftColumns, draftColumns, JOB_COLUMN_ENTRIES } from './jobColumns.ts';
import { CONTRACT_DEFAULTS, wireJob } from './rowToJob.ts';

/**
 * The top-level fields of the upstream contract that have a column (or are `object`, a constant); anything
 * else an item carries goes to `extra`.
 */
const KNOWN_FIELDS = new Set<string>([
  'object',
  'request',
  'response',
  ...JOB_COLUMN_ENTRIES.flatMap(([, c]) => (c.kind === 'upstream' && c.wire ? [c.wire] : [])),
]);

export interface JobFileRow {
  position: number;
  filename: string;
  documentType: string | null;
}

/**
 * One job as the mirror stores it, before merging with what is already stored: its columns (see
 * jobColumns.ts; `request`/`response` null means "not included", never "erased") and its derived rows.
 */
export interface JobDraft extends DraftColumns {
  /** null when the item carries no request: the stored files stay. */
  files: JobFileRow[] | null;
  metadataPairs: Array<[string, string]>;
  /** The unknown top-level fields (parsed form of `extra`), for snapshots. */
  extraFields: Record<string, unknown> | null;
}

/**
 * The fields an item carries beyond the contract's columns, for `extra`. A contract field kept there
 * (`warnings`, `cancelled`) at its default (`CONTRACT_DEFAULTS`, what `rowToJob` serves when a row has none)
 * stores nothing.
 */
export function extraFieldsOf(job: Job): Record<string, unknown> | null {
  let extra: Record<string, unknown> | null = null;
  for (const key in job) {
    if (KNOWN_FIELDS.has(key)) continue;
    const value = (job as Record<string, unknown>)[key];
    if (
      key in CONTRACT_DEFAULTS &&
      (value === undefined || value === CONTRACT_DEFAULTS[key as keyof typeof CONTRACT_DEFAULTS])
    )
      continue;
    extra ??= {};
    extra[key] = (job as Record<string, unknown>)[key];
  }
  return extra;
}

export function jobToRow(job: Job): JobDraft {
  const request = job.request ?? null;
  const metadata = job.metadata ?? null;
  const extraFields = extraFieldsOf(job);
  const d = draftColumns({ job, request, metadata, extraFields }) as JobDraft;
  d.files = request
    ? jobFilenames(request).map((filename, position) => ({
        position,
        filename,
        documentType: documentTypeOf(filename),
      }))
    : null;
  d.metadataPairs = metadata ? Object.entries(metadata) : [];
  d.extraFields = extraFields;
  return d;
}

/**
 * The wire snapshot carried by events: the job as `rowToJob` rebuilds it from the stored row, without request
 * and response (events stay small; consumers fetch payloads from the mirror when they need them).
 */
export function jobSnapshot(job: Job, extraFields: Record<string, unknown> | null = extraFieldsOf(job)): Job {
  return wireJob(job, extraFields, false);
}
