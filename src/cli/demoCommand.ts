import type { Command } from 'commander';
import { CliError, cliContext } from './context.ts';
import { onStopSignals } from './stopSignals.ts';

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new CliError(`--${name} expects a whole number > 0, got "${value}"`, 2);
    return n;
  };
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'zero-config demo: a simulated Retab API, the mirror syncing it, the local API and a live view',
    )
    .option(
      '--duration <seconds>',
      'stop after this many seconds (default: until Ctrl-C)',
      positiveInt('duration'),
    )
    .option('--jobs <n>', 'jobs the simulator starts with', positiveInt('jobs'), 3000)
    .option('--days <n>', 'days of history they span', positiveInt('days'), 14)
    .option('--db <path>', 'database the demo writes (recreated at start)', './data/demo.db')
    .action(async (opts: { duration?: number; jobs: number; days: number; db: string }, cmd: Command) => {
      const explicitLevel = cmd.optsWithGlobals<{ logLevel?: string }>().logLevel ?? process.env.LOG_LEVEL;
      // The live view owns the terminal: only warnings and errors are logged unless asked otherwise.
      const { config, logger } = cliContext(cmd, explicitLevel ? {} : { logLevel: 'warn' });
      const stop = new AbortController();
      // Ctrl-C ends the demo with its last sync pass and summary; pressed again (after the relay window of
      // one Ctrl-C, see stopSignals.ts) it quits at once.
      const disposeSignals = onStopSignals({ onStop: () => stop.abort(), onForce: () => process.exit(130) });
      try {
        const { runDemo } = await import('../demo/runDemo.ts');
        const result = await runDemo({
          config,
          logger,
          jobs: opts.jobs,
          days: opts.days,
          dbPath: opts.db,
          signal: stop.signal,
          ...(opts.duration ? { durationSeconds: opts.duration } : {}),
        });
        if (!result.interrupted && result.mirrorJobs !== result.simulatorJobs) {
          throw new CliError(
            `the mirror holds ${result.mirrorJobs} jobs but the simulator ${result.simulatorJobs}`,
          );
        }
      } finally {
        disposeSignals();
      }
    });
}
