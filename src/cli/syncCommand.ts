/**
 * `retab-mirror sync`: one full pass in-process, no Redis (head → active → hydrate, plus history windows and
 * reconcile when asked), then its change events delivered to the configured sinks (syncDelivery.ts).
 * Progress on stderr (a bar on a TTY, a log line every ~5 s otherwise), a one-screen summary on stdout.
 * SIGINT/SIGTERM stop after the current page's transaction (checkpoint stored): exit 130, and running it
 * again continues. An `ALERT_RULES` rule naming an unknown sink stops it before it starts: exit 2.
 */

import type { Command } from 'commander';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';
import {
  lockMirrorWriter,
  MirrorOpenError,
  MirrorWriterBusy,
  openStore,
  storeKindOf,
} from '../mirror/index.ts';
import type { RetabClient } from '../retab/index.ts';
import { JOB_STATUSES, RetabConfigError, type SOURCES } from '../retab/index.ts';
import type { PageInfo, PassSummary, TaskEvent } from '../sync/index.ts';
import { backfillDays, isDay, lastDays, probeUpstreamNow, taskConfigOf } from '../sync/index.ts';
import { startProgressBar } from '../terminal.ts';
import { CliError, cliContext } from './context.ts';
import { onStopSignals } from './stopSignals.ts';
import { formatDelivery, startSyncDelivery } from './syncDelivery.ts';

interface SyncFlags {
  once?: boolean;
  backfillDays?: string;
  from?: string;
  to?: string;
  source?: (typeof SOURCES)[number][];
  reconcile?: boolean;
  progress?: boolean;
  events?: boolean;
  eventsTimeout?: string;
}

const LOG_EVERY_MS = 5000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The history days a `sync` sweeps, checked before anything is sent: a list, or a function of upstream's
 * now (unix ms; `--backfill-days N`, `--from` without `--to`) since those days are counted on upstream's
 * clock, not the machine's (upstreamClock.ts). `undefined` when no history was asked for.
 */
function windowDaysOf(flags: SyncFlags): ((upstreamNow: number) => string[]) | string[] | undefined {
  if (flags.backfillDays !== undefined) {
    const n = Number(flags.backfillDays);
    if (!Number.isInteger(n) || n < 0 || n > 3650) {
      throw new CliError(
        `--backfill-days ${JSON.stringify(flags.backfillDays)}: expected a whole number 0–3650`,
        2,
      );
    }
    if (flags.from || flags.to) throw new CliError('use either --backfill-days or --from/--to, not both', 2);
    return (upstreamNow) => lastDays(upstreamNow, n);
  }
  if (!flags.from && !flags.to) return undefined;
  const from = flags.from;
  if (!from) throw new CliError('--to needs --from (the first UTC day to sweep)', 2);
  for (const [flag, v] of [
    ['--from', from],
    ['--to', flags.to ?? from],
  ] as const) {
    if (!isDay(v)) throw new CliError(`${flag} ${JSON.stringify(v)} is not a UTC day; use YYYY-MM-DD`, 2);
  }
  const range = (to: string) => {
    const days = backfillDays(from, to);
    if (days.length === 0) throw new CliError(`--from ${from} is after --to ${to}`, 2);
    return days;
  };
  if (flags.to) return range(flags.to);
  return (upstreamNow) => range(dayOf(upstreamNow));
}

/** Live progress: a bar on a TTY, else a log line every ~5 s. */
function progressReporter(logger: Logger, tty: boolean) {
  const started = Date.now();
  let jobs = 0;
  let requests = 0;
  let task = 'starting';
  let windows = { done: 0, total: 0 };
  const rate = () => Math.round(jobs / Math.max(0.001, (Date.now() - started) / 1000));
  const payload = () => ({ task, jobs, requests, rate: rate() });
  // Log lines written while the bar is drawn are printed above it (terminal.ts).
  const progress = tty
    ? startProgressBar(
        {
          stream: process.stderr,
          format:
            'sync {task} |{bar}| windows {value}/{total} | {jobs} jobs | {requests} req | {rate}/s | ETA {eta_formatted}',
          hideCursor: true,
          etaBuffer: 20,
        },
        1,
        0,
        payload(),
      )
    : undefined;
  const bar = progress?.bar;
  const timer = tty
    ? undefined
    : setInterval(
        () =>
          logger.info(
            { task, jobs, requests, windows: `${windows.done}/${windows.total}`, rate: rate() },
            'sync progress',
          ),
        LOG_EVERY_MS,
      );
  timer?.unref();
  return {
    onPage(info: PageInfo) {
      jobs += info.jobs;
      requests += info.requests;
      bar?.update(payload());
    },
    onTask(e: TaskEvent) {
      task = e.phase === 'start' ? e.partition : task;
      windows = { done: e.windowsDone, total: e.windowsTotal };
      bar?.setTotal(Math.max(1, e.windowsTotal));
      bar?.update(e.windowsDone, payload());
    },
    stop() {
      if (timer) clearInterval(timer);
      progress?.stop();
    },
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

function formatSummary(s: PassSummary): string {
  const t = s.totals;
  const head =
    s.outcome === 'success'
      ? `sync complete in ${(s.durationMs / 1000).toFixed(1)} s`
      : s.outcome === 'aborted'
        ? `sync interrupted; run again to continue (stopped after ${(s.durationMs / 1000).toFixed(1)} s)`
        : `sync FAILED after ${(s.durationMs / 1000).toFixed(1)} s: ${s.error}`;
  const lines = [
    head,
    `  requests  ${fmt(t.requests)} (${fmt(t.pages)} pages)`,
    `  jobs      ${fmt(t.jobs)} seen, ${fmt(t.inserted)} new, ${fmt(t.updated)} changed, ${fmt(t.missing)} missing upstream, ${fmt(t.quarantined)} quarantined`,
    `  events    ${fmt(t.events)}`,
  ];
  if (s.windows.total > 0) lines.push(`  windows   ${fmt(s.windows.done)}/${fmt(s.windows.total)}`);
  const total = Object.values(s.jobsByStatus).reduce<number>((a, b) => a + (b ?? 0), 0);
  lines.push(`mirror: ${fmt(total)} jobs`);
  for (const status of JOB_STATUSES) {
    const n = s.jobsByStatus[status];
    if (n) lines.push(`  ${status.padEnd(12)}${fmt(n).padStart(10)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * SQLite has one writer (mirror/writerLock.ts): a `sync` on a file a worker or the demo writes would race it,
 * so it is refused in one line; the lock is released when this process exits. PostgreSQL is not locked: a
 * `sync` there writes beside a fleet without a fencing token (its pages are whole transactions, and the
 * merge rule never lets an older observation overwrite a newer one).
 */
function lockSyncWriter(config: Config): void {
  if (storeKindOf(config.dbPath) !== 'sqlite') return;
  try {
    process.once('exit', lockMirrorWriter(config.dbPath, 'sync'));
  } catch (err) {
    if (!(err instanceof MirrorWriterBusy)) throw err;
    throw new CliError(
      `MIRROR_DB ${err.message}. ${err.holder.role === 'worker' ? 'The worker already runs these syncs on its schedule: stop it first' : `Stop the ${err.holder.role} first`}, or point MIRROR_DB at another file.`,
    );
  }
}

async function openMirrorOrFail(config: Config): Promise<MirrorStore> {
  lockSyncWriter(config);
  try {
    return await openStore(config.dbPath, {
      poolSize: config.dbPoolSize,
      onUpgrade: ({ path }) =>
        process.stderr.write(`upgrading the mirror schema of ${path}; large mirrors take a minute\n`),
    });
  } catch (err) {
    if (err instanceof MirrorOpenError)
      throw new CliError(err.message.includes('MIRROR_DB') ? err.message : `${err.message} (MIRROR_DB)`);
    throw err;
  }
}

export function registerSyncCommand(program: Command): void {
  program
    // Its flags and help: commands/sync.ts.
    .command('sync')
    .action(async (flags: SyncFlags, cmd: Command) => {
      const windowPlan = windowDaysOf(flags);
      const overrides: Record<string, unknown> = {};
      if (flags.backfillDays !== undefined) overrides.backfillDays = flags.backfillDays;
      if (flags.source) overrides.sources = [...new Set(flags.source)];
      const { config, logger, json } = cliContext(cmd, overrides);
      const eventsTimeoutMs = Number(flags.eventsTimeout ?? '300') * 1000;
      if (!Number.isFinite(eventsTimeoutMs) || eventsTimeoutMs < 0) {
        throw new CliError(
          `--events-timeout ${JSON.stringify(flags.eventsTimeout)}: expected seconds (a number >= 0)`,
          2,
        );
      }
      if (!config.apiKey) {
        throw new CliError(
          'RETAB_API_KEY is not set: export RETAB_API_KEY=<your Retab API key> and run again',
        );
      }
      // Loaded here, not at the top: the other commands need neither the HTTP client nor the sync.
      const [{ clientFromConfig }, { syncOnce }] = await Promise.all([
        import('../retab/index.ts'),
        import('../sync/index.ts'),
      ]);
      let client: RetabClient;
      try {
        client = clientFromConfig(config, logger);
      } catch (err) {
        if (err instanceof RetabConfigError) throw new CliError(err.message);
        throw err;
      }
      // Days counted back from now are counted on upstream's clock: one cheap request learns it. A wrong key
      // or base URL (401/403/404) there ends the sync at once, in one line, as it would a pass.
      let windowDays: string[] | undefined;
      if (typeof windowPlan === 'function') {
        let upstreamNow: number;
        try {
          upstreamNow = await probeUpstreamNow(client, Date.now, logger, { throwFatal: true });
        } catch (err) {
          throw new CliError(`sync failed: ${(err as Error).message}`);
        }
        windowDays = windowPlan(upstreamNow);
      } else windowDays = windowPlan;
      const mirror = await openMirrorOrFail(config);
      let delivery: Awaited<ReturnType<typeof startSyncDelivery>>;
      try {
        delivery = await startSyncDelivery(config, mirror, logger, flags.events !== false);
      } catch (err) {
        await mirror.close();
        throw err; // EventsConfigError (a rule naming an unknown sink): exit 2 with its message
      }
      const stop = new AbortController();
      let passDone = false;
      const disposeSignals = onStopSignals({
        onStop: (signal) => {
          if (passDone)
            logger.warn(
              { signal },
              'stopping event delivery; what is left is delivered by the next run or the worker',
            );
          else logger.info({ signal }, 'stopping after the current page (press again to quit at once)');
          stop.abort();
        },
        onForce: () => process.exit(130), // pressed again: do not wait
      });
      const progress =
        flags.progress === false ? undefined : progressReporter(logger, process.stderr.isTTY === true);
      let summary: PassSummary | undefined;
      try {
        summary = await syncOnce(
          {
            client,
            mirror,
            logger,
            signal: stop.signal,
            onPage: (info) => {
              progress?.onPage(info);
              delivery.notify();
            },
          },
          {
            ...taskConfigOf(config),
            ...(windowDays ? { windowDays } : {}),
            ...(flags.reconcile ? { reconcile: true } : {}),
            ...(progress ? { onTask: progress.onTask } : {}),
          },
        );
      } catch (err) {
        // Not expected (a pass reports failures in its summary), but never leave the dispatcher running.
        await delivery.finish({ timeoutMs: 0, signal: stop.signal, deliver: false }).catch(() => []);
        disposeSignals();
        await mirror.close();
        throw err;
      } finally {
        progress?.stop();
        passDone = true;
      }
      let sinks: Awaited<ReturnType<typeof delivery.finish>> = [];
      try {
        sinks = await delivery.finish({
          timeoutMs: eventsTimeoutMs,
          signal: stop.signal,
          // An interrupted pass stops at once; one that failed on upstream trouble still delivers what it
          // committed; one that failed for good (bad key, unwritable database) does not wait for delivery.
          deliver:
            summary?.outcome === 'success' || (summary?.outcome === 'failed' && summary.retryable === true),
        });
      } finally {
        disposeSignals();
        await mirror.close();
      }
      process.stdout.write(
        json
          ? `${JSON.stringify({ ...summary, delivery: sinks }, null, 2)}\n`
          : formatSummary(summary) + formatDelivery(sinks),
      );
      if (summary.outcome === 'failed') throw new CliError(`sync failed: ${summary.error}`);
      // Interrupted, in the pass or while delivering its events: 130, as for any interrupted run.
      if (summary.outcome === 'aborted' || stop.signal.aborted) process.exitCode = 130;
    });
}
