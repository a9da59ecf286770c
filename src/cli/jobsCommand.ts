/**
 * `retab-mirror jobs list|get`: the mirror read like `GET /v1/jobs`, offline. Flags are named like Retab's
 * CLI and validated by the API's own parser, so a bad flag gets the message the API would give (exit 2).
 */
import type { Command } from 'commander';
import {
  CSV_HEADER,
  csvLine,
  csvRecord,
  deriveSource,
  iso,
  type Job,
  jobFilenames,
  jsonJob,
} from '../retab/index.ts';
import { CliError, cliContext } from './context.ts';
import {
  emptyReason,
  type FilterFlags,
  filterFlagsToQuery,
  openReadMirror,
  parseOrExit,
  readMirror,
  warnAboutFilters,
  writeOut,
} from './exportCommand.ts';

type OutputFormat = 'table' | 'json' | 'jsonl' | 'csv';

const TABLE_COLUMNS: [string, number][] = [
  ['ID', 25],
  ['STATUS', 11],
  ['ENDPOINT', 28],
  ['CREATED (UTC)', 19],
  ['FILENAME', 0],
];

function tableLine(cells: string[]): string {
  return `${cells.map((c, i) => (TABLE_COLUMNS[i]?.[1] ? c.padEnd(TABLE_COLUMNS[i][1]) : c)).join('  ')}\n`.replace(
    /\s+\n$/,
    '\n',
  );
}

export const tableHeader = (): string => tableLine(TABLE_COLUMNS.map(([h]) => h));

export function tableRow(job: Job): string {
  const files = jobFilenames(job.request ?? null);
  const file = files.length === 0 ? '' : files.length === 1 ? files[0] : `${files[0]} (+${files.length - 1})`;
  return tableLine([
    job.id,
    job.status,
    job.endpoint,
    iso(job.created_at).replace('T', ' ').replace('Z', ''),
    file ?? '',
  ]);
}

/** A job as `key: value` lines for a terminal. */
export function describeJob(job: Job): string {
  const req = job.request ?? null;
  const lines: [string, unknown][] = [
    ['id', job.id],
    ['status', job.status],
    ['endpoint', job.endpoint],
    ['source', deriveSource(job.metadata, req)],
    ['created', iso(job.created_at)],
    ['started', iso(job.started_at)],
    ['completed', iso(job.completed_at)],
    ['expires', iso(job.expires_at)],
    ['model', req?.model],
    ['project', req?.project_id],
    ['files', jobFilenames(req).join(', ')],
    ['error', job.error ? `${job.error.code}: ${job.error.message}` : ''],
    ['metadata', job.metadata ? JSON.stringify(job.metadata) : ''],
  ];
  return lines
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${`${k}:`.padEnd(11)}${String(v)}\n`)
    .join('');
}

export function outputFormat(opts: { jsonl?: boolean; csv?: boolean }, json: boolean): OutputFormat {
  const chosen = [json && 'json', opts.jsonl && 'jsonl', opts.csv && 'csv'].filter(Boolean);
  if (chosen.length > 1) throw new CliError(`choose one output format (got --${chosen.join(' and --')})`, 2);
  return (chosen[0] as OutputFormat | undefined) ?? 'table';
}

// ---- commands

interface ListFlags extends FilterFlags {
  limit?: string;
  after?: string;
  before?: string;
  order?: string;
  all?: boolean;
  includeRequest?: boolean;
  includeResponse?: boolean;
  jsonl?: boolean;
  csv?: boolean;
}

async function listAction(flags: ListFlags, cmd: Command): Promise<void> {
  const { config, json } = cliContext(cmd);
  const format = outputFormat(flags, json);
  const query = filterFlagsToQuery(flags);
  for (const [k, v] of [
    ['limit', flags.limit],
    ['after', flags.after],
    ['before', flags.before],
    ['order', flags.order],
  ] as const)
    if (v !== undefined) query[k] = v;
  if (flags.includeRequest) query.include_request = 'true';
  if (flags.includeResponse) query.include_response = 'true';
  const params = parseOrExit(query);
  warnAboutFilters(params);
  if (flags.all && params.before !== undefined)
    throw new CliError('--all walks forward: use --after, not --before', 2);
  // Table and CSV show filenames, so read the request even when it is not printed.
  const read = {
    ...params,
    include_request: params.include_request || format === 'table' || format === 'csv',
  };
  const shown = { includeRequest: params.include_request, includeResponse: params.include_response };
  await readMirror(config, async (mirror) => {
    const page = flags.all ? undefined : await mirror.jobs.query(read);
    if (format === 'json' && page) {
      await writeOut(
        `${JSON.stringify({ ...page, data: page.data.map((j) => jsonJob(j, shown)) }, null, 2)}\n`,
      );
      return;
    }
    if (format === 'csv') await writeOut(csvRecord(CSV_HEADER));
    if (format === 'json') await writeOut('[');
    let n = 0;
    for await (const job of page ? page.data : mirror.jobs.iterate(read)) {
      if (format === 'table') await writeOut(`${n === 0 ? tableHeader() : ''}${tableRow(job)}`);
      else if (format === 'csv') await writeOut(csvLine(job));
      else if (format === 'jsonl') await writeOut(`${JSON.stringify(jsonJob(job, shown))}\n`);
      else await writeOut(`${n > 0 ? ',' : ''}\n${JSON.stringify(jsonJob(job, shown))}`);
      n++;
    }
    if (format === 'json') await writeOut(n > 0 ? '\n]\n' : ']\n');
    // Nothing matched: say so (stderr, exit 0) rather than print a bare header.
    if (n === 0) process.stderr.write(`${emptyReason(params)}\n`);
    if (page?.has_more && format === 'table') {
      process.stderr.write(`more jobs: --after ${page.last_id} (or --all)\n`);
    }
  });
}

export function registerJobsCommand(program: Command): void {
  // Their flags and help: commands/jobs.ts.
  const jobs = program.command('jobs');
  jobs.command('list').action(listAction);

  jobs
    // <id>, its flags and help: commands/jobs.ts.
    .command('get')
    .action(
      async (id: string, flags: { includeRequest?: boolean; includeResponse?: boolean }, cmd: Command) => {
        const { config, json } = cliContext(cmd);
        const mirror = await openReadMirror(config);
        try {
          const job = await mirror.jobs.get(id, {
            include_request: flags.includeRequest === true || !json,
            include_response: flags.includeResponse === true,
          });
          if (!job) throw new CliError(`job ${id} not found in the mirror (${mirror.location})`);
          process.stdout.write(json ? `${JSON.stringify(job, null, 2)}\n` : describeJob(job));
        } finally {
          await mirror.close();
        }
      },
    );
}
