/** What every command needs from the global flags: the loaded config, a logger, the output mode. */
import type { Command } from 'commander';
import type { DestinationStream } from 'pino';
import { type Config, loadConfig } from '../config.ts';
import { createLogger, type Logger, prettyStream } from '../log.ts';
import { terminalStream } from '../terminal.ts';

export { CliError } from './cliError.ts';

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
  json?: boolean;
}

export interface CliContext {
  config: Config;
  logger: Logger;
  json: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * Where a command's log lines go. `stderr` (the default): everything on stderr, so stdout stays clean for the
 * command's output (tables, JSON, exports). `service` (worker, serve): info and below on stdout, warnings
 * and errors on stderr, as process managers (PM2's out/error logs, systemd) expect.
 */
export type LogRoute = 'stderr' | 'service';

function logDestination(stream: NodeJS.WriteStream): DestinationStream {
  // On a terminal: one readable line per entry, printed above a progress bar if one is drawn.
  return stream.isTTY === true ? prettyStream(terminalStream(stream)) : stream;
}

/**
 * Load config (flags > env > .env > config file > defaults), once per command. The logger is built on first
 * use: a command that logs nothing (`jobs list`, `stats`, `export`) never draws in pino-pretty on a terminal.
 */
export function cliContext(
  cmd: Command,
  overrides: Record<string, unknown> = {},
  route: LogRoute = 'stderr',
): CliContext {
  const opts = globalOptions(cmd);
  const config = loadConfig({
    ...(opts.config ? { configFile: opts.config } : {}),
    overrides: { ...(opts.logLevel ? { logLevel: opts.logLevel } : {}), ...overrides },
  });
  // loadConfig registered every credential of the config with the logger (config.ts registerConfigSecrets).
  let logger: Logger | undefined;
  return {
    config,
    get logger() {
      logger ??=
        route === 'service'
          ? createLogger({
              level: config.logLevel,
              split: { info: logDestination(process.stdout), warn: logDestination(process.stderr) },
            })
          : createLogger({ level: config.logLevel, destination: logDestination(process.stderr) });
      return logger;
    },
    json: opts.json === true,
  };
}
