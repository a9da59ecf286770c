/** `retab-mirror status`: declared here, run by statusCommand.ts (see lazyAction.ts). */
import type { Command } from 'commander';
import { lazyAction } from './lazyAction.ts';

export function declareStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      "live workers and their leases, schedulers, queue depth, the fleet's upstream request rate, last run per partition and sync lag (works without Redis)",
    )
    .action(lazyAction(async () => (await import('../statusCommand.ts')).registerStatusCommand));
}
