/** `retab-mirror demo`: declared here, run by demoCommand.ts (see lazyAction.ts). */
import type { Command } from 'commander';
import { CliError } from '../cliError.ts';
import { lazyAction } from './lazyAction.ts';

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new CliError(`--${name} expects a whole number > 0, got "${value}"`, 2);
    return n;
  };
}

export function declareDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'zero-config demo: a simulated Retab API, the mirror syncing it, the local API and a live view',
    )
    .option(
      '--duration <seconds>',
      'stop after this many seconds (default: until Ctrl-C)',
      positiveInt('duration'),
    )
    .option('--jobs <n>', 'jobs the simulator starts with', positiveInt('jobs'), 3000)
    .option('--days <n>', 'days of history they span', positiveInt('days'), 14)
    .option('--db <path>', 'database the demo writes (recreated at start)', './data/demo.db')
    .action(lazyAction(async () => (await import('../demoCommand.ts')).registerDemoCommand));
}
