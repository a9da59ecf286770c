/** `retab-mirror events …`: declared here, run by eventsCommand.ts (see lazyAction.ts). */
import { type Command, Option } from 'commander';
import { EVENT_TYPES } from '../../events/eventModel.ts';
import { CliError } from '../cliError.ts';
import { lazyAction } from './lazyAction.ts';

/** `--type a,b --type c` → `['a', 'b', 'c']`. */
export const csvList = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** A parser of whole numbers >= 1 that names the flag in its usage error (exit 2). */
export function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new CliError(`${name} must be an integer >= 1, got "${value}"`, 2);
    return n;
  };
}

export function declareEventsCommand(program: Command): void {
  const action = lazyAction(async () => (await import('../eventsCommand.ts')).registerEventsCommand);
  const events = program
    .command('events')
    .description('change events: tail the outbox, replay a sink, list and retry failed webhook deliveries');

  events
    .command('tail')
    .description('print the latest change events (oldest first); --json prints one JSON object per line')
    .option('-n, --lines <n>', 'how many of the latest events', positiveInt('-n'), 20)
    .option('-f, --follow', 'keep printing new events until Ctrl-C')
    .option(
      '--type <types>',
      `only these event types (repeatable or comma-separated): ${EVENT_TYPES.join(', ')}`,
      csvList,
    )
    .option(
      '--to-status <statuses>',
      'only events whose new status is one of these (repeatable or comma-separated)',
      csvList,
    )
    .addOption(
      new Option('--interval-ms <ms>', 'poll interval of --follow')
        .default(500)
        .argParser(positiveInt('--interval-ms'))
        .hideHelp(),
    )
    .action(action);

  events
    .command('replay')
    .description(
      "re-deliver events to one sink from a seq on (rewinds that sink's cursor; a running dispatcher picks it up)",
    )
    .requiredOption('--from-seq <n>', 'first seq to deliver again', positiveInt('--from-seq'))
    .requiredOption('--sink <name>', 'sink name: emitter, queue, log, stdout or a webhook name')
    .action(action);

  events.command('cursors').description('where each sink is in the outbox').action(action);

  events
    .command('enable')
    .description('resume delivery to a sink its receiver disabled (410 Gone), from where it stopped')
    .requiredOption('--sink <name>', 'the disabled sink (see `events cursors`)')
    .action(action);

  events
    .command('failed')
    .description('list events a webhook gave up on (dead letters)')
    .option('--all', 'include the ones already resent successfully')
    .action(action);

  events
    .command('retry')
    .description('resend dead-lettered events once each (marks them resolved on success)')
    .option('--id <id>', 'a dead letter id from `events failed` (repeatable or comma-separated)', csvList)
    .option('--all', 'every unresolved dead letter')
    .action(action);
}
