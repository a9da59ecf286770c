/** `retab-mirror sync`: declared here, run by syncCommand.ts (see lazyAction.ts). */
import { type Command, InvalidArgumentError } from 'commander';
import { SOURCES } from '../../retab/sources.ts';
import { lazyAction } from './lazyAction.ts';

function collect(value: string, previous: string[] | undefined): string[] {
  if (!(SOURCES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${SOURCES.join(', ')}`);
  }
  return [...(previous ?? []), value];
}

export function declareSyncCommand(program: Command): void {
  program
    .command('sync')
    .description(
      'one full sync pass in-process, no Redis: head → active → hydrate (+ history windows), then its events delivered',
    )
    .option('--once', 'accepted for compatibility: sync always runs one pass')
    .option('--backfill-days <n>', 'also sweep the last N days as resumable date windows')
    .option('--from <YYYY-MM-DD>', 'also sweep date windows from this UTC day')
    .option('--to <YYYY-MM-DD>', "last UTC day of --from (default: upstream's today)")
    .option('--source <source>', `only this source, repeatable (${SOURCES.join(', ')})`, collect)
    .option('--reconcile', "re-sweep the last 7 days' windows from their start, even where done")
    .option('--no-progress', 'no progress bar or progress lines')
    .option(
      '--no-events',
      'only write events to the outbox; leave their delivery to the worker or a later run',
    )
    .option(
      '--events-timeout <seconds>',
      'longest wait for event delivery after the pass; the rest is delivered by the next run or the worker',
      '300',
    )
    .action(lazyAction(async () => (await import('../syncCommand.ts')).registerSyncCommand));
}
