/** `retab-mirror export`: declared here, run by exportCommand.ts (see lazyAction.ts). */
import { type Command, Option } from 'commander';
import { addFilterOptions } from './filterOptions.ts';
import { lazyAction } from './lazyAction.ts';

export function declareExportCommand(program: Command): void {
  addFilterOptions(
    program.command('export').description('write every matching mirrored job to stdout (JSON lines or CSV)'),
  )
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .addOption(new Option('--order <order>', 'by created_at').choices(['desc', 'asc']))
    .option('--after <id>', 'start after this job (resume an interrupted export)')
    .option('--include-request', 'include the stored request payloads (jsonl)')
    .option('--include-response', 'include the stored responses (jsonl)')
    .action(lazyAction(async () => (await import('../exportCommand.ts')).registerExportCommand));
}
