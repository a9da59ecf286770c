/** `retab-mirror backfill`: declared here, run by backfillCommand.ts (see lazyAction.ts). */
import { type Command, Option } from 'commander';
import { SOURCES } from '../../retab/sources.ts';
import { lazyAction } from './lazyAction.ts';

export function declareBackfillCommand(program: Command): void {
  program
    .command('backfill')
    .description(
      'queue one window job per UTC day (run by `retab-mirror worker`); queuing the same range twice adds nothing',
    )
    .requiredOption('--from <YYYY-MM-DD>', 'first UTC day, inclusive')
    .requiredOption('--to <YYYY-MM-DD>', 'last UTC day, inclusive')
    .addOption(
      new Option(
        '--source <source...>',
        'one window per day and source (default: per day, every source)',
      ).choices(SOURCES),
    )
    .action(lazyAction(async () => (await import('../backfillCommand.ts')).registerBackfillCommand));
}
