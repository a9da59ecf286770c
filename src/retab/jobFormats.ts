/**
 * A job as the CLI's `export`/`jobs list` and the console's download write it: a CSV record (fixed columns,
 * RFC 4180, formula-escaped) or a JSON line with payloads only when asked for. One place, so a file exported
 * from the shell and one downloaded from the console have the same columns.
 */
import { stringify } from 'csv-stringify/sync';
import { deriveSource, jobFilenames, workflowNodeId } from './jobFields.ts';
import type { Job } from './schemas.ts';

/** Unix seconds as ISO-8601 UTC without milliseconds (`2026-05-01T12:00:00Z`); '' for none. */
export const iso = (s: number | null | undefined): string =>
  s === null || s === undefined ? '' : new Date(s * 1000).toISOString().replace('.000Z', 'Z');

export const CSV_HEADER = [
  'id',
  'status',
  'endpoint',
  'source',
  'created_at',
  'started_at',
  'completed_at',
  'expires_at',
  'model',
  'project_id',
  'workflow_id',
  'workflow_node_id',
  'filenames',
  'error_code',
  'error_message',
  'metadata',
];

/**
 * One CSV record (RFC 4180, CRLF). Cells come from upstream (filenames, error messages, metadata): one that
 * starts with `=`, `+`, `-`, `@`, tab or CR would run as a formula when the file is opened in a spreadsheet
 * (CSV injection, OWASP), so csv-stringify's `escape_formulas` prefixes it with `'`.
 */
export function csvRecord(cells: string[]): string {
  return stringify([cells], { escape_formulas: true, record_delimiter: '\r\n' });
}

/** One CSV line (RFC 4180) of a job read with its request (for filenames, model and project). */
export function csvLine(job: Job): string {
  const req = job.request ?? null;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const cells = [
    job.id,
    job.status,
    job.endpoint,
    deriveSource(job.metadata, req),
    iso(job.created_at),
    iso(job.started_at),
    iso(job.completed_at),
    iso(job.expires_at),
    str(req?.model),
    str(req?.project_id),
    job.metadata?.workflow_id ?? '',
    workflowNodeId(job.metadata) ?? '',
    jobFilenames(req).join(';'),
    job.error?.code ?? '',
    job.error?.message ?? '',
    job.metadata ? JSON.stringify(job.metadata) : '',
  ];
  return csvRecord(cells);
}

/** A job as a JSON line: payloads only when the user asked for them (the CLI reads them for filenames). */
export function jsonJob(job: Job, flags: { includeRequest?: boolean; includeResponse?: boolean }): Job {
  return {
    ...job,
    request: flags.includeRequest ? job.request : null,
    response: flags.includeResponse ? job.response : null,
  };
}
