import type { Command } from 'commander';
import type { SOURCES } from '../retab/index.ts';
import { backfillDays, isDay } from '../sync/index.ts';
import { CliError, cliContext } from './context.ts';

interface BackfillOptions {
  from: string;
  to: string;
  source?: (typeof SOURCES)[number][];
}

const MAX_DAYS = 3660;

/** `isDay` throws on shapes like 2026-13-01 (an invalid Date): both mean "not a day" here. */
function validDay(v: string): boolean {
  try {
    return isDay(v);
  } catch {
    return false;
  }
}

export function registerBackfillCommand(program: Command): void {
  program
    // Its flags and help: commands/backfill.ts.
    .command('backfill')
    .action(async (opts: BackfillOptions, cmd: Command) => {
      const { config, logger, json } = cliContext(cmd);
      for (const [flag, v] of [
        ['--from', opts.from],
        ['--to', opts.to],
      ] as const) {
        if (!validDay(v))
          throw new CliError(`${flag} ${JSON.stringify(v)} is not a UTC day; use YYYY-MM-DD`, 2);
      }
      const days = backfillDays(opts.from, opts.to).length;
      if (days === 0) throw new CliError(`--from ${opts.from} is after --to ${opts.to}`, 2);
      if (days > MAX_DAYS) throw new CliError(`--from..--to spans ${days} days; at most ${MAX_DAYS}`, 2);

      // One window per day, or per (day, source) when only some are mirrored (`planWindows`).
      const sources = opts.source ? [...new Set(opts.source)] : config.sources;

      // Loaded here, not at the top: every other command would pay for BullMQ and ioredis at startup.
      const [
        { closeRedis, createRedis, describeRedisError, describeRedisProblem, RedisHealth, waitForReady },
        { createSyncQueue },
        { enqueueBackfill },
      ] = await Promise.all([
        import('../queue/index.ts'),
        import('../queue/index.ts'),
        import('../queue/index.ts'),
      ]);
      // A one-shot command: a few reconnect attempts, then a clear failure (the worker, by contrast, waits).
      const health = new RedisHealth(config.redisUrl, logger);
      const redis = createRedis(config.redisUrl, {
        health,
        maxAttempts: 3,
        connectionName: 'retab-mirror-backfill',
      });
      try {
        await waitForReady(redis).catch((err) => {
          throw new CliError(
            describeRedisProblem(config.redisUrl, health.lastErrorMessage || describeRedisError(err)),
          );
        });
        const queue = createSyncQueue(redis, config.queuePrefix);
        try {
          const result = await enqueueBackfill(queue, {
            from: opts.from,
            to: opts.to,
            sources,
          });
          if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          else
            process.stdout.write(
              `backfill ${opts.from}..${opts.to}: ${result.added.length} window job(s) queued, ${result.existing.length} already queued or done, ${result.retried.length} failed one(s) retried\n` +
                (result.added.length + result.retried.length > 0
                  ? 'a running `retab-mirror worker` picks them up (`retab-mirror status` shows progress)\n'
                  : ''),
            );
        } finally {
          await queue.close();
        }
      } finally {
        await closeRedis(redis);
      }
    });
}
