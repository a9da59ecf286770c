/** What every command needs from the global flags: the loaded config, a logger, the output mode. */
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.ts';
import { createLogger, type Logger, registerSecret } from '../log.ts';

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

/** A failure to report in one line with a given exit code (1 runtime, 2 usage). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** Load config (flags > env > .env > config file > defaults) and build the logger, once per command. */
export function cliContext(cmd: Command, overrides: Record<string, unknown> = {}): CliContext {
  const opts = globalOptions(cmd);
  const config = loadConfig({
    ...(opts.config ? { configFile: opts.config } : {}),
    overrides: { ...(opts.logLevel ? { logLevel: opts.logLevel } : {}), ...overrides },
  });
  registerSecret(config.apiKey);
  registerSecret(config.serverToken);
  registerSecret(config.webhookSecret);
  for (const w of config.webhooks) registerSecret(w.secret);
  // Logs go to stderr so that stdout stays clean for command output (tables, JSON, exports).
  const logger = createLogger({
    level: config.logLevel,
    destination: process.stderr.isTTY ? undefined : process.stderr,
    pretty: process.stderr.isTTY === true,
  });
  return { config, logger, json: opts.json === true };
}
