/** `retab-mirror jobs list|get`: declared here, run by jobsCommand.ts (see lazyAction.ts). */
import { type Command, Option } from 'commander';
import { addFilterOptions } from './filterOptions.ts';
import { lazyAction } from './lazyAction.ts';

export function declareJobsCommand(program: Command): void {
  const action = lazyAction(async () => (await import('../jobsCommand.ts')).registerJobsCommand);
  const jobs = program.command('jobs').description('read mirrored jobs offline (like GET /v1/jobs)');
  addFilterOptions(jobs.command('list').description('list jobs, newest first, with the API filters'))
    .option('--limit <n>', 'page size, 1–100 (default 20)')
    .option('--after <id>', 'page after this job (a previous last_id)')
    .option('--before <id>', 'page before this job (a previous first_id)')
    .addOption(new Option('--order <order>', 'by created_at').choices(['desc', 'asc']))
    .option('--all', 'every matching job (pages through all, streaming)')
    .option('--include-request', 'include the stored request payloads')
    .option('--include-response', 'include the stored responses (needs --limit <= 20 unless --all)')
    .option('--jsonl', 'one JSON job per line')
    .option('--csv', 'CSV with a header row')
    .action(action);

  jobs
    .command('get <id>')
    .description('one mirrored job (like GET /v1/jobs/{id})')
    .option('--include-request', 'include the stored request payload')
    .option('--include-response', 'include the stored response')
    .action(action);
}
