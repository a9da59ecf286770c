/**
 * `retab-mirror export --format jsonl|csv [filters] > file`: every matching job, streamed from one statement
 * (constant memory on any mirror size). Also what every read command shares: the filter flags (named like
 * Retab's CLI, validated by the API's own parser) and opening the mirror read-only. The job formats (CSV, JSON
 * lines) are retab/jobFormats.ts, which the console's download shares.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { RE2JS } from 're2js';
import type { Config } from '../config.ts';
import type { MirrorStore } from '../mirror/index.ts';
import { openStore, storeKindOf } from '../mirror/index.ts';
import {
  CSV_HEADER,
  csvLine,
  csvRecord,
  InvalidCursorError,
  jsonJob,
  type NormalizedListParams,
  parseListQuery,
  type ValidationDetail,
} from '../retab/index.ts';
import { CliError, cliContext } from './context.ts';

/** Open the configured mirror read-only (a reader never blocks the sync's writes). */
export async function openReadMirror(config: Pick<Config, 'dbPath'>): Promise<MirrorStore> {
  if (storeKindOf(config.dbPath) !== 'sqlite') return openStore(config.dbPath, { readonly: true });
  const path = resolve(config.dbPath);
  if (!existsSync(path))
    throw new CliError(`no mirror at ${path}: run retab-mirror sync first (or set MIRROR_DB)`);
  return openStore(path, { readonly: true });
}

/**
 * Run `read` over the mirror opened read-only and close it after; a cursor that names no mirrored job is a
 * usage error (exit 2), as the API answers it with a 400.
 */
export async function readMirror<T>(
  config: Pick<Config, 'dbPath'>,
  read: (mirror: MirrorStore) => Promise<T>,
): Promise<T> {
  const mirror = await openReadMirror(config);
  try {
    return await read(mirror);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new CliError(err.message, 2);
    throw err;
  } finally {
    await mirror.close();
  }
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

/** Each filter flag and the query parameter it is sent as (metadata, key=value pairs, is folded apart). */
const FILTER_PARAMS = {
  id: 'id',
  status: 'status',
  endpoint: 'endpoint',
  source: 'source',
  projectId: 'project_id',
  workflowId: 'workflow_id',
  workflowNodeId: 'workflow_node_id',
  model: 'model',
  filenameRegex: 'filename_regex',
  filenameContains: 'filename_contains',
  documentType: 'document_type',
  fromDate: 'from_date',
  toDate: 'to_date',
} as const satisfies Record<Exclude<keyof FilterFlags, 'metadata'>, string>;

/** Flags as the raw query the API parser takes (same names, same strings as on the wire). */
export function filterFlagsToQuery(f: FilterFlags): Record<string, string | string[]> {
  const q: Record<string, string | string[]> = {};
  for (const [flag, param] of Object.entries(FILTER_PARAMS)) {
    const v = f[flag as keyof typeof FILTER_PARAMS];
    if (v !== undefined) q[param] = v;
  }
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

/**
 * Why a query matched nothing, when its own flags say so (`--from-date` after `--to-date`); `flags` names the
 * range's flags as the command spells them (`stats` also takes `--from`/`--to`).
 */
export function emptyReason(
  params: Pick<NormalizedListParams, 'from_date' | 'to_date'>,
  flags: { from: string; to: string } = { from: '--from-date', to: '--to-date' },
): string {
  if (params.from_date && params.to_date && params.from_date > params.to_date)
    return `no jobs match: ${flags.from} ${params.from_date} is after ${flags.to} ${params.to_date}`;
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
  await readMirror(config, async (mirror) => {
    if (flags.format === 'csv') await writeOut(csvRecord(CSV_HEADER));
    const shown = { includeRequest: flags.includeRequest === true, includeResponse: include_response };
    let n = 0;
    for await (const job of mirror.jobs.iterate({ ...params, include_request, include_response })) {
      await writeOut(flags.format === 'csv' ? csvLine(job) : `${JSON.stringify(jsonJob(job, shown))}\n`);
      n++;
    }
    if (n === 0) process.stderr.write(`${emptyReason(params)}\n`);
  });
}

export function registerExportCommand(program: Command): void {
  // Its flags and help: commands/export.ts.
  program.command('export').action(exportAction);
}
