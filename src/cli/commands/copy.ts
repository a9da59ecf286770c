/** `retab-mirror copy --from … --to …`: declared here, run by copyCommand.ts (see lazyAction.ts). */
import type { Command } from 'commander';
import { CliError } from '../cliError.ts';
import { lazyAction } from './lazyAction.ts';

function positive(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 100_000)
      throw new CliError(`${flag} ${JSON.stringify(v)}: expected a whole number 1–100000`, 2);
    return n;
  };
}

export function declareCopyCommand(program: Command): void {
  program
    .command('copy')
    .description(
      'copy a mirror to another store (SQLite file ↔ PostgreSQL): every table, keys kept, resumable, counts verified',
    )
    .requiredOption('--from <file-or-url>', 'the mirror to copy: an SQLite file or a postgres:// URL')
    .requiredOption(
      '--to <file-or-url>',
      'where to copy it: a new or empty SQLite file or PostgreSQL database, or the target of an interrupted copy of the same source (resumed)',
    )
    .option('--batch <n>', 'jobs (or log rows) per transaction', positive('--batch'), 2000)
    .addHelpText(
      'after',
      '\nStop the worker first: rows changed in the source during the copy are not copied again. Ctrl-C stops\nafter the batch in flight; run the same command again to resume. Exit codes: 0 copied and verified,\n1 failed (unreachable, target holds another mirror, counts differ), 2 bad arguments, 130 interrupted.',
    )
    .action(lazyAction(async () => (await import('../copyCommand.ts')).registerCopyCommand));
}
