import type { Command } from 'commander';
import type { RunningWorker } from '../queue/index.ts';
import { cliContext } from './context.ts';
import { onStopSignals } from './stopSignals.ts';

/** PM2's `kill_timeout` (ecosystem.config.cjs) is 12 s: finish well before it. */
const HARD_STOP_MS = 9500;

interface WorkerOptions {
  concurrency?: string;
}

export function registerWorkerCommand(program: Command): void {
  program
    // Its flags and help: commands/worker.ts.
    .command('worker')
    .action(async (opts: WorkerOptions, cmd: Command) => {
      const { config, logger } = cliContext(
        cmd,
        opts.concurrency !== undefined ? { workerConcurrency: opts.concurrency } : {},
        'service',
      );
      const stop = new AbortController();
      onStopSignals({
        onStop: (signal) => {
          logger.info({ signal }, 'stopping: running tasks finish their current page, then exit');
          stop.abort();
          setTimeout(() => {
            logger.error(`shutdown took longer than ${HARD_STOP_MS} ms; exiting anyway`);
            process.exit(1);
          }, HARD_STOP_MS).unref();
        },
        onForce: (signal) => {
          logger.warn({ signal }, 'second signal: exiting without waiting for the running tasks');
          process.exit(1);
        },
      });

      // Once everything we opened is closed, a socket still lingering (ioredis gives a dead one 2 s to end,
      // keep-alive HTTP connections) must not hold the exit.
      const exitSoon = () => setTimeout(() => process.exit(process.exitCode ?? 0), 300).unref();
      // Loaded here, not at the top: every other command would pay for BullMQ and ioredis at startup.
      const { startWorker, WorkerStartAborted } = await import('../queue/index.ts');
      let running: RunningWorker;
      try {
        running = await startWorker({
          config,
          logger,
          signal: stop.signal,
          // Deleted or replaced under us: the worker has stopped and logged why; exit non-zero so PM2 restarts it.
          onMirrorLost: () => {
            process.exitCode = 1;
            stop.abort();
          },
        });
      } catch (err) {
        if (!(err instanceof WorkerStartAborted)) throw err;
        exitSoon(); // stopped before Redis ever answered: a clean exit
        return;
      }
      await new Promise<void>((resolve) => {
        if (stop.signal.aborted) resolve();
        else stop.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await running.close();
      exitSoon();
    });
}
