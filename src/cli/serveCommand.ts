/**
 * `retab-mirror serve`: the local read API on SERVER_HOST:SERVER_PORT (127.0.0.1 by default). It reads
 * through a read-only connection of its own, so it never holds up the sync writing the same file (WAL).
 * With RETAB_API_KEY set, payloads a reader asks for and the mirror lacks are fetched from upstream and
 * stored through a second, writable connection (server/fillPayloads.ts).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { openStore, storeKindOf, truncateWal } from '../mirror/index.ts';
import { createRetabClient } from '../retab/index.ts';
import type { UpstreamPayloads } from '../server/index.ts';
import { CliError, cliContext } from './context.ts';
import { untilStopSignal } from './stopSignals.ts';

/**
 * The upstream side of honest payloads, or undefined without an API key. A reader is waiting: one retry and
 * at most 10 s per attempt, so an unreachable upstream costs seconds, not the sync's patient minutes.
 */
async function upstreamPayloads(
  config: Config,
  path: string,
  logger: Logger,
): Promise<UpstreamPayloads | undefined> {
  if (!config.apiKey) return undefined;
  const client = createRetabClient({
    apiKey: config.apiKey,
    baseUrl: config.baseUrl,
    timeoutMs: Math.min(config.requestTimeoutMs, 10_000),
    maxRetries: Math.min(config.maxRetries, 1),
    maxRequestsPerSecond: config.rateLimitPerSecond,
    logger,
  });
  // PAYLOAD_MODE=none: the mirror keeps no payloads, so fetched ones are returned and not stored.
  return {
    client,
    writer:
      config.payloadMode === 'none' ? undefined : await openStore(path, { poolSize: config.dbPoolSize }),
    logger,
  };
}

export function registerServeCommand(program: Command): void {
  program
    // Its flags and help: commands/serve.ts.
    .command('serve')
    .action(async (flags: { host?: string; port?: string }, cmd: Command) => {
      const { config, logger } = cliContext(
        cmd,
        {
          ...(flags.host !== undefined ? { serverHost: flags.host } : {}),
          ...(flags.port !== undefined ? { serverPort: flags.port } : {}),
        },
        'service',
      );
      const sqlite = storeKindOf(config.dbPath) === 'sqlite';
      const path = sqlite ? resolve(config.dbPath) : config.dbPath;
      // Before the first sync the file may not exist, or the database may carry no schema (or an older one):
      // create or upgrade it (schema only) so the API answers empty lists. On PostgreSQL a database already
      // current is only checked (no DDL), so a role that may only read can serve it.
      if (!sqlite || !existsSync(path)) await (await openStore(path, { poolSize: 1 })).close();
      const mirror = await openStore(path, { readonly: true, poolSize: config.dbPoolSize });
      const upstream = await upstreamPayloads(config, path, logger);
      // Loaded here, not at the top: every other command starts faster without fastify.
      const { startServer } = await import('../server/index.ts');
      let app: Awaited<ReturnType<typeof startServer>>;
      try {
        app = await startServer({
          mirror,
          config,
          logger,
          ...(upstream ? { upstream } : {}),
          // The console's actions (retry, replay) write through a connection of their own, opened per action.
          console: { config, openWriter: () => openStore(path, { poolSize: config.dbPoolSize }) },
        });
      } catch (err) {
        await mirror.close();
        await upstream?.writer?.close();
        throw new CliError(
          `cannot listen on ${config.serverHost}:${config.serverPort}: ${(err as Error).message} (set SERVER_PORT or --port)`,
        );
      }
      const address = app.server.address();
      const where =
        typeof address === 'object' && address ? `${address.address}:${address.port}` : String(address);
      logger.info(
        {
          db: mirror.location,
          auth: config.serverToken ? 'token' : 'none',
          missingPayloads: upstream ? 'fetched from upstream' : 'null, X-Mirror-Payload: partial',
        },
        `serving the mirror on http://${where}/v1/jobs · console at http://${where}/`,
      );
      const { stopped, dispose } = untilStopSignal(() => process.exit(130));
      const signal = await stopped;
      logger.info({ signal }, 'stopping the server');
      await app.close().catch((err: unknown) => logger.error({ err }, 'server close failed'));
      await mirror.close();
      await upstream?.writer?.close();
      // The read-only connection cannot truncate SQLite's WAL on close: a short writable one does.
      if (sqlite) truncateWal(path);
      dispose();
    });
}
