/** `retab-mirror worker`: declared here, run by workerCommand.ts (see lazyAction.ts). */
import type { Command } from 'commander';
import { lazyAction } from './lazyAction.ts';

export function declareWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run the scheduled mirror: BullMQ job schedulers and the sync worker (Redis at REDIS_URL)')
    .option('--concurrency <n>', 'sync jobs run at once (overrides WORKER_CONCURRENCY)')
    .action(lazyAction(async () => (await import('../workerCommand.ts')).registerWorkerCommand));
}
