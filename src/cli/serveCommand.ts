/**
 * `retab-mirror serve`: the local read API on SERVER_HOST:SERVER_PORT (127.0.0.1 by default). It reads
 * through a read-only connection of its own, so it never holds up the sync writing the same file (WAL).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { openMirror, truncateWal } from '../mirror/openMirror.ts';
import { CliError, cliContext } from './context.ts';
import { untilStopSignal } from './stopSignals.ts';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the mirror over HTTP: GET /v1/jobs (Retab wire format), stats, events (SSE), health, metrics',
    )
    .option('--host <host>', 'bind address (overrides SERVER_HOST)')
    .option('--port <port>', 'port (overrides SERVER_PORT)')
    .action(async (flags: { host?: string; port?: string }, cmd: Command) => {
      const { config, logger } = cliContext(
        cmd,
        {
          ...(flags.host !== undefined ? { serverHost: flags.host } : {}),
          ...(flags.port !== undefined ? { serverPort: flags.port } : {}),
        },
        'service',
      );
      const path = resolve(config.dbPath);
      // Before the first sync the file may not exist: create it (schema only) so the API answers empty lists.
      if (!existsSync(path)) openMirror(path).close();
      const mirror = openMirror(path, { readonly: true });
      // Loaded here, not at the top: every other command starts faster without fastify.
      const { startServer } = await import('../server/createServer.ts');
      let app: Awaited<ReturnType<typeof startServer>>;
      try {
        app = await startServer({ mirror, config, logger });
      } catch (err) {
        mirror.close();
        throw new CliError(
          `cannot listen on ${config.serverHost}:${config.serverPort}: ${(err as Error).message} (set SERVER_PORT or --port)`,
        );
      }
      const address = app.server.address();
      const where =
        typeof address === 'object' && address ? `${address.address}:${address.port}` : String(address);
      logger.info(
        { db: path, auth: config.serverToken ? 'token' : 'none' },
        `serving the mirror on http://${where}/v1/jobs`,
      );
      const { stopped, dispose } = untilStopSignal(() => process.exit(130));
      const signal = await stopped;
      logger.info({ signal }, 'stopping the server');
      await app.close().catch((err: unknown) => logger.error({ err }, 'server close failed'));
      mirror.close();
      truncateWal(path);
      dispose();
    });
}
