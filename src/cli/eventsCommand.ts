/**
 * `retab-mirror events …`: read the outbox, rewind a sink (a replay re-sends under new delivery ids),
 * re-enable a sink its receiver disabled (410 Gone), list and resend dead-lettered webhook events.
 */
import type { Command } from 'commander';
import { EVENT_TYPES, type MirrorEvent, RESERVED_SINK_NAMES, retryDeadLetters } from '../events/index.ts';
import type { MirrorStore } from '../mirror/index.ts';
import { openStore } from '../mirror/index.ts';
import { JOB_STATUSES } from '../retab/index.ts';
import { positiveInt } from './commands/events.ts';
import { CliError, cliContext } from './context.ts';
import { untilStopSignal } from './stopSignals.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

function checkChoices(flag: string, values: string[] | undefined, allowed: readonly string[]): void {
  for (const v of values ?? []) {
    if (!allowed.includes(v)) throw new CliError(`${flag} "${v}" is not one of: ${allowed.join(', ')}`, 2);
  }
}

export function formatEvent(e: MirrorEvent): string {
  const flags = [e.inferred ? 'inferred' : '', e.backfill ? 'backfill' : ''].filter(Boolean).join(',');
  return [
    `#${e.seq}`,
    new Date(e.occurredAt).toISOString(),
    e.type.padEnd(20),
    e.jobId,
    `${e.from ?? '-'} → ${e.to ?? '-'}`.padEnd(25),
    e.job?.endpoint ?? '',
    flags ? `[${flags}]` : '',
  ]
    .join('  ')
    .trimEnd();
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function withMirror<T>(
  path: string,
  readonly: boolean,
  fn: (mirror: MirrorStore) => Promise<T>,
): Promise<T> {
  const mirror = await openStore(path, { readonly });
  try {
    return await fn(mirror);
  } finally {
    await mirror.close();
  }
}

interface TailOptions {
  lines: number;
  follow?: boolean;
  type?: string[];
  toStatus?: string[];
  intervalMs: number;
}

async function tail(cmd: Command, opts: TailOptions): Promise<void> {
  const { config, json } = cliContext(cmd);
  checkChoices('--type', opts.type, EVENT_TYPES);
  checkChoices('--to-status', opts.toStatus, JOB_STATUSES);
  const query = { types: opts.type ?? [], toStatuses: opts.toStatus ?? [] };
  const print = (e: MirrorEvent) => out(json ? JSON.stringify(e) : formatEvent(e));
  const mirror = await openStore(config.dbPath, { readonly: true });
  try {
    // Snapshot the max seq before each read: an event committed in between is printed next time, not skipped.
    let seq = await mirror.outbox.maxSeq();
    let shown = 0;
    for (const e of await mirror.outbox.last(opts.lines, { ...query, upToSeq: seq })) {
      print(e);
      shown++;
    }
    // Nothing to show: say so on stderr (exit 0) instead of printing nothing.
    if (shown === 0)
      process.stderr.write(
        `${seq === 0 ? 'no events yet' : 'no events match'}${opts.follow ? '; waiting for new ones (Ctrl-C to stop)' : ''}\n`,
      );
    if (!opts.follow) return;
    let polling: Promise<void> | undefined;
    const poll = async () => {
      const max = await mirror.outbox.maxSeq();
      for (;;) {
        const batch = await mirror.outbox.after(seq, 500, { ...query, upToSeq: max });
        for (const e of batch) print(e);
        // Past non-matching events too, so the next poll does not rescan them.
        seq = batch.length < 500 ? max : (batch.at(-1)?.seq ?? max);
        if (batch.length < 500) break;
      }
    };
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        // One poll at a time: a slow read is not overlapped by the next tick.
        polling ??= poll()
          .catch((err: unknown) => {
            clearInterval(timer);
            reject(err);
          })
          .finally(() => {
            polling = undefined;
          });
      }, opts.intervalMs);
      const { stopped, dispose } = untilStopSignal();
      void stopped.then(async () => {
        clearInterval(timer);
        dispose();
        await polling;
        resolve();
      });
    });
  } finally {
    await mirror.close();
  }
}

export function registerEventsCommand(program: Command): void {
  // Their flags and help: commands/events.ts.
  const events = program.command('events');

  events
    // Its flags and help: commands/events.ts.
    .command('tail')
    .action((opts: TailOptions, cmd: Command) => tail(cmd, opts));

  events
    // Its flags and help: commands/events.ts.
    .command('replay')
    .action((opts: { fromSeq: number; sink: string }, cmd: Command) => {
      const { config, json } = cliContext(cmd);
      return withMirror(config.dbPath, false, async (mirror) => {
        const known = [...RESERVED_SINK_NAMES, ...config.webhooks.map((w) => w.name)];
        if (!known.includes(opts.sink) && (await mirror.cursors.get(opts.sink)) === undefined) {
          throw new CliError(`unknown sink "${opts.sink}"; known sinks: ${known.join(', ')}`, 2);
        }
        let cursor: number;
        try {
          cursor = await mirror.cursors.replayFrom(opts.sink, opts.fromSeq);
        } catch (err) {
          if (err instanceof RangeError) throw new CliError(err.message, 2);
          throw err;
        }
        const max = await mirror.outbox.maxSeq();
        const row = await mirror.cursors.get(opts.sink);
        const generation = row?.generation ?? 0;
        if (json)
          out(JSON.stringify({ sink: opts.sink, cursor, generation, pending: Math.max(0, max - cursor) }));
        else
          out(
            `${opts.sink}: cursor set to ${cursor}; the dispatcher re-delivers seq ${opts.fromSeq}..${max} (${Math.max(0, max - cursor)} events, those its rules route to it) as replay ${generation} (delivery ids <eventId>.r${generation})`,
          );
        if (row?.disabledAt != null && !json)
          out(
            `${opts.sink} is disabled (its receiver answered 410 Gone): \`events enable --sink ${opts.sink}\``,
          );
      });
    });

  events
    // Its flags and help: commands/events.ts.
    .command('cursors')
    .action((_opts, cmd: Command) => {
      const { config, json } = cliContext(cmd);
      return withMirror(config.dbPath, true, async (mirror) => {
        const max = await mirror.outbox.maxSeq();
        const rows = (await mirror.cursors.list()).map((c) => ({ ...c, lag: Math.max(0, max - c.seq) }));
        if (json) for (const r of rows) out(JSON.stringify(r));
        else if (rows.length === 0) out('no sink has delivered anything yet');
        else
          out(
            table([
              ['SINK', 'SEQ', 'LAG', 'REPLAYS', 'UPDATED', 'STATE'],
              ...rows.map((r) => [
                r.sink,
                String(r.seq),
                String(r.lag),
                String(r.generation),
                new Date(r.updatedAt).toISOString(),
                r.disabledAt != null
                  ? `disabled since ${new Date(r.disabledAt).toISOString()}: ${r.disabledReason ?? ''}`
                  : 'enabled',
              ]),
            ]),
          );
      });
    });

  events
    // Its flags and help: commands/events.ts.
    .command('enable')
    .action((opts: { sink: string }, cmd: Command) => {
      const { config, json } = cliContext(cmd);
      return withMirror(config.dbPath, false, async (mirror) => {
        if ((await mirror.cursors.get(opts.sink)) === undefined)
          throw new CliError(`unknown sink "${opts.sink}": it has no cursor (see \`events cursors\`)`, 2);
        const changed = await mirror.cursors.enable(opts.sink);
        const after = (await mirror.cursors.get(opts.sink))?.seq;
        if (json) out(JSON.stringify({ sink: opts.sink, enabled: true, changed }));
        else
          out(
            changed
              ? `${opts.sink}: enabled; a running dispatcher resumes after seq ${after}`
              : `${opts.sink} was not disabled`,
          );
      });
    });

  events
    // Its flags and help: commands/events.ts.
    .command('failed')
    .action((opts: { all?: boolean }, cmd: Command) => {
      const { config, json } = cliContext(cmd);
      return withMirror(config.dbPath, true, async (mirror) => {
        const rows = await mirror.deadLetters.list({ includeResolved: opts.all === true });
        if (json) for (const r of rows) out(JSON.stringify(r));
        else if (rows.length === 0) out('no failed deliveries');
        else
          out(
            table([
              [
                'ID',
                'SINK',
                'SEQ',
                'EVENT',
                'ATTEMPTS',
                'FAILED AT',
                opts.all ? 'RESOLVED AT' : '',
                'LAST ERROR',
              ],
              ...rows.map((r) => [
                String(r.id),
                r.sink,
                String(r.seq),
                r.eventId,
                String(r.attempts),
                new Date(r.failedAt).toISOString(),
                opts.all ? (r.resolvedAt ? new Date(r.resolvedAt).toISOString() : '-') : '',
                (r.lastError ?? '').slice(0, 120),
              ]),
            ]),
          );
      });
    });

  events
    // Its flags and help: commands/events.ts.
    .command('retry')
    .action(async (opts: { id?: string[]; all?: boolean }, cmd: Command) => {
      const { config, json, logger } = cliContext(cmd);
      const ids = (opts.id ?? []).map(positiveInt('--id'));
      if (!opts.all && ids.length === 0)
        throw new CliError('say which to resend: --id N (see `events failed`) or --all', 2);
      if (opts.all && ids.length > 0) throw new CliError('use either --id or --all, not both', 2);
      const mirror = await openStore(config.dbPath);
      try {
        const results = await retryDeadLetters({
          mirror,
          config,
          logger,
          ...(opts.all ? { all: true } : { ids }),
        });
        for (const r of results) {
          if (json) out(JSON.stringify(r));
          else
            out(
              r.ok
                ? `#${r.id} ${r.sink} ${r.eventId}: delivered`
                : `#${r.id} ${r.sink ?? ''} ${r.eventId ?? ''}: failed again: ${r.error}`.replace(
                    / {2,}/g,
                    ' ',
                  ),
            );
        }
        if (!json)
          out(
            `${results.filter((r) => r.ok).length} delivered, ${results.filter((r) => !r.ok).length} failed`,
          );
        if (results.some((r) => !r.ok)) process.exitCode = 1;
      } finally {
        await mirror.close();
      }
    });
}
