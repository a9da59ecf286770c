/**
 * The commander program: global flags and every command. Commands are thin: parse, call, print.
 *
 * Built from light declarations (commands/): each command's name, options and help are here at once, its
 * implementation (`<name>Command.ts`, with its database, queue, HTTP and sync imports) is imported only
 * when it runs (commands/lazyAction.ts), so `--help` and the everyday commands start fast (bench/startup.ts).
 * test/foundation/startupImports.test.ts keeps the heavy modules out of this graph.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
// The zod-free module of the choices, not the config facade: that would load the whole settings schema.
import { LOG_LEVELS } from '../config/choices.ts';
import { declareBackfillCommand } from './commands/backfill.ts';
import { declareConfigCommand } from './commands/config.ts';
import { declareCopyCommand } from './commands/copy.ts';
import { declareDemoCommand } from './commands/demo.ts';
import { declareEventsCommand } from './commands/events.ts';
import { declareExportCommand } from './commands/export.ts';
import { declareJobsCommand } from './commands/jobs.ts';
import { declareServeCommand } from './commands/serve.ts';
import { declareSimulatorCommand } from './commands/simulator.ts';
import { declareStatsCommand } from './commands/stats.ts';
import { declareStatusCommand } from './commands/status.ts';
import { declareSyncCommand } from './commands/sync.ts';
import { declareWorkerCommand } from './commands/worker.ts';

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
  declareConfigCommand(program);
  declareEventsCommand(program);
  declareWorkerCommand(program);
  declareBackfillCommand(program);
  declareStatusCommand(program);
  declareSyncCommand(program);
  declareJobsCommand(program);
  declareStatsCommand(program);
  declareExportCommand(program);
  declareCopyCommand(program);
  declareServeCommand(program);
  declareDemoCommand(program);
  declareSimulatorCommand(program);
  return program;
}
