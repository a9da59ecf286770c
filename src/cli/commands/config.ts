/** `retab-mirror config`: declared here, run by configCommand.ts (see lazyAction.ts). */
import type { Command } from 'commander';
import { lazyAction } from './lazyAction.ts';

export function declareConfigCommand(program: Command): void {
  program
    .command('config')
    .description('print the effective configuration (secrets masked)')
    .action(lazyAction(async () => (await import('../configCommand.ts')).registerConfigCommand));
}
