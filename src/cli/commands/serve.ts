/** `retab-mirror serve`: declared here, run by serveCommand.ts (see lazyAction.ts). */
import type { Command } from 'commander';
import { lazyAction } from './lazyAction.ts';

export function declareServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the mirror over HTTP: the web console at /, GET /v1/jobs (Retab wire format), stats, events (SSE), health, metrics',
    )
    .option('--host <host>', 'bind address (overrides SERVER_HOST)')
    .option('--port <port>', 'port (overrides SERVER_PORT)')
    .action(lazyAction(async () => (await import('../serveCommand.ts')).registerServeCommand));
}
