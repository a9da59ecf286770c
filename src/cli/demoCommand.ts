import type { Command } from 'commander';
import { CliError, cliContext } from './context.ts';
import { onStopSignals } from './stopSignals.ts';

export function registerDemoCommand(program: Command): void {
  program
    // Its flags and help: commands/demo.ts.
    .command('demo')
    .action(async (opts: { duration?: number; jobs: number; days: number; db: string }, cmd: Command) => {
      const explicitLevel = cmd.optsWithGlobals<{ logLevel?: string }>().logLevel ?? process.env.LOG_LEVEL;
      // The live view owns the terminal: only warnings and errors are logged unless asked otherwise.
      const { config, logger } = cliContext(cmd, explicitLevel ? {} : { logLevel: 'warn' });
      const stop = new AbortController();
      // Ctrl-C ends the demo with its last sync pass and summary; pressed again (after the relay window of
      // one Ctrl-C, see stopSignals.ts) it quits at once.
      const disposeSignals = onStopSignals({ onStop: () => stop.abort(), onForce: () => process.exit(130) });
      try {
        const { runDemo } = await import('../demo/index.ts');
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
