/** `retab-mirror stats`: declared here, run by statsCommand.ts (see lazyAction.ts). */
import { type Command, Option } from 'commander';
import { STATS_GROUP_BY } from '../../mirror/statsGroupBy.ts';
import { addFilterOptions } from './filterOptions.ts';
import { lazyAction } from './lazyAction.ts';

export function declareStatsCommand(program: Command): void {
  addFilterOptions(program.command('stats').description('counts, failure rates and duration percentiles'))
    .addOption(new Option('--by <group>', 'group rows by').choices(STATS_GROUP_BY).default('status'))
    .option('--from <YYYY-MM-DD>', 'first UTC day (inclusive) of created_at')
    .option('--to <YYYY-MM-DD>', 'last UTC day (inclusive) of created_at')
    .action(lazyAction(async () => (await import('../statsCommand.ts')).registerStatsCommand));
}
