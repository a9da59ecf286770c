/**
 * `retab-mirror export --format jsonl|csv [filters] > file`: every matching job, streamed from one statement
 * (constant memory on any mirror size). Also what every read command shares: the filter flags (named like
 * Retab's CLI, validated by the API's own parser), opening the mirror read-only, and the job formats.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { RE2JS } from 're2js';
import type { Config } from '../config.ts';
import { openStore, storeKindOf } from '../mirror/openStore.ts';
import type { MirrorStore } from '../mirror/store.ts';
import { InvalidCursorError } from '../retab/errors.ts';
import { deriveSource, jobFilenames, workflowNodeId } from '../retab/jobFields.ts';
import { type NormalizedListParams, parseListQuery, type ValidationDetail } from '../retab/params.ts';
import type { Job } from '../retab/schemas.ts';
import { CliError, cliContext } from './context.ts';

/** Open the configured mirror read-only (a reader never blocks the sync's writes). */
export async function openReadMirror(config: Pick<Config, 'dbPath'>): Promise<MirrorStore> {
  if (storeKindOf(config.dbPath) !== 'sqlite') return openStore(config.dbPath, { readonly: true });
  const path = resolve(config.dbPath);
  if (!existsSync(path))
    throw new CliError(`no mirror at ${path}: run retab-mirror sync first (or set MIRROR_DB)`);
  return openStore(path, { readonly: true });
}

export interface FilterFlags {
  id?: string;
  status?: string;
  endpoint?: string;
  source?: string;
  projectId?: string;
  workflowId?: string;
  workflowNodeId?: string;
  model?: string;
  filenameRegex?: string;
  filenameContains?: string;
  documentType?: string[];
  fromDate?: string;
  toDate?: string;
  metadata?: string[];
}

/** Flags as the raw query the API parser takes (same names, same strings as on the wire). */
export function filterFlagsToQuery(f: FilterFlags): Record<string, string | string[]> {
  const q: Record<string, string | string[]> = {};
  const set = (k: string, v: string | string[] | undefined) => {
    if (v !== undefined) q[k] = v;
  };
  set('id', f.id);
  set('status', f.status);
  set('endpoint', f.endpoint);
  set('source', f.source);
  set('project_id', f.projectId);
  set('workflow_id', f.workflowId);
  set('workflow_node_id', f.workflowNodeId);
  set('model', f.model);
  set('filename_regex', f.filenameRegex);
  set('filename_contains', f.filenameContains);
  set('document_type', f.documentType);
  set('from_date', f.fromDate);
  set('to_date', f.toDate);
  if (f.metadata && f.metadata.length > 0) {
    const pairs: Record<string, string> = {};
    for (const kv of f.metadata) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new CliError(`--metadata expects key=value (got "${kv}")`, 2);
      pairs[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    q.metadata = JSON.stringify(pairs);
  }
  return q;
}

/**
 * A 422 detail list as one line naming the flags: `--limit: Input should be a valid integer`. A value the
 * parser rejects for several reasons is named once, with the first (the most basic) of them.
 */
export function validationMessage(detail: ValidationDetail[]): string {
  const byFlag = new Map<string, string>();
  for (const d of detail) {
    const flag = `--${String(d.loc[1] ?? 'query').replaceAll('_', '-')}`;
    if (!byFlag.has(flag)) byFlag.set(flag, d.msg);
  }
  return [...byFlag].map(([flag, msg]) => `${flag}: ${msg}`).join('; ');
}

/**
 * Say, on stderr, what the filters mean where the answer would otherwise puzzle: a `--filename-regex` that is
 * not RE2 is matched as plain text (the upstream contract), a range whose start is after its end is empty.
 */
export function warnAboutFilters(params: NormalizedListParams): void {
  const pattern = params.filename_regex;
  if (pattern !== undefined) {
    try {
      RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
    } catch (err) {
      process.stderr.write(
        `retab-mirror: warning: --filename-regex ${JSON.stringify(pattern)} is not a valid RE2 pattern (${(err as Error).message}); matching it as plain text, e.g. --filename-regex '.*\\.pdf'\n`,
      );
    }
  }
}

/** Why a query matched nothing, when its own flags say so (`--from-date` after `--to-date`). */
export function emptyReason(params: NormalizedListParams): string {
  if (params.from_date && params.to_date && params.from_date > params.to_date)
    return `no jobs match: --from-date ${params.from_date} is after --to-date ${params.to_date}`;
  return 'no jobs match';
}

export function parseOrExit(query: Record<string, string | string[]>): NormalizedListParams {
  const parsed = parseListQuery(query);
  if (!parsed.ok) throw new CliError(validationMessage(parsed.body.detail), 2);
  return parsed.params;
}

/** Write to stdout and wait when its buffer is full, so streaming a million rows stays in constant memory. */
export async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
}

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

interface ExportFlags extends FilterFlags {
  format: 'jsonl' | 'csv';
  order?: string;
  after?: string;
  includeRequest?: boolean;
  includeResponse?: boolean;
}

async function exportAction(flags: ExportFlags, cmd: Command): Promise<void> {
  const { config } = cliContext(cmd);
  const query = filterFlagsToQuery(flags);
  if (flags.order !== undefined) query.order = flags.order;
  if (flags.after !== undefined) query.after = flags.after;
  const params = parseOrExit(query);
  warnAboutFilters(params);
  const include_response = flags.includeResponse === true;
  const include_request = flags.includeRequest === true || flags.format === 'csv';
  const mirror = await openReadMirror(config);
  try {
    if (flags.format === 'csv') await writeOut(csvRecord(CSV_HEADER));
    const shown = { includeRequest: flags.includeRequest === true, includeResponse: include_response };
    let n = 0;
    for await (const job of mirror.jobs.iterate({ ...params, include_request, include_response })) {
      await writeOut(flags.format === 'csv' ? csvLine(job) : `${JSON.stringify(jsonJob(job, shown))}\n`);
      n++;
    }
    if (n === 0) process.stderr.write(`${emptyReason(params)}\n`);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new CliError(err.message, 2);
    throw err;
  } finally {
    await mirror.close();
  }
}

export function registerExportCommand(program: Command): void {
  // Its flags and help: commands/export.ts.
  program.command('export').action(exportAction);
}
