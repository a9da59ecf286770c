/** The commander program: global flags and every command. Commands are thin: parse, call, print. */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { LOG_LEVELS } from '../config.ts';
import { registerBackfillCommand } from './backfillCommand.ts';
import { registerConfigCommand } from './configCommand.ts';
import { registerDemoCommand } from './demoCommand.ts';
import { registerEventsCommand } from './eventsCommand.ts';
import { registerExportCommand } from './exportCommand.ts';
import { registerJobsCommand } from './jobsCommand.ts';
import { registerServeCommand } from './serveCommand.ts';
import { registerSimulatorCommand } from './simulatorCommand.ts';
import { registerStatsCommand } from './statsCommand.ts';
import { registerStatusCommand } from './statusCommand.ts';
import { registerSyncCommand } from './syncCommand.ts';
import { registerWorkerCommand } from './workerCommand.ts';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

export function buildProgram(): Command {
  const program = new Command('retab-mirror')
    .description("Mirror Retab's Jobs API into SQLite, emit status-change events, and answer queries offline")
    .version(VERSION, '-V, --version')
    .option('-c, --config <path>', 'JSON config file (env vars override it)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS))
    .option('--json', 'machine-readable output where a command supports it')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    // Throw instead of exiting, so main.ts maps usage errors to exit code 2 (inherited by subcommands).
    .exitOverride();
  registerConfigCommand(program);
  registerEventsCommand(program);
  registerWorkerCommand(program);
  registerBackfillCommand(program);
  registerStatusCommand(program);
  registerSyncCommand(program);
  registerJobsCommand(program);
  registerStatsCommand(program);
  registerExportCommand(program);
  registerServeCommand(program);
  registerDemoCommand(program);
  registerSimulatorCommand(program);
  return program;
}
