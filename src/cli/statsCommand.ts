/** `retab-mirror stats --by endpoint --from … --to …`: aggregates over the mirror, as a table or `--json`. */
import type { Command } from 'commander';
import type { StatsResult, StatsRow } from '../mirror/index.ts';
import { parseStatsQuery } from '../mirror/index.ts';
import { CliError, cliContext } from './context.ts';
import {
  emptyReason,
  type FilterFlags,
  filterFlagsToQuery,
  openReadMirror,
  validationMessage,
} from './exportCommand.ts';

interface StatsFlags extends FilterFlags {
  by: string;
  from?: string;
  to?: string;
}

const num = (v: number | null): string => (v === null ? '-' : String(Math.round(v * 10) / 10));
const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);
const triple = (a: number | null, b: number | null, c: number | null) => `${num(a)}/${num(b)}/${num(c)}`;

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function rowCells(r: StatsRow): string[] {
  return [
    r.key ?? '(none)',
    String(r.count),
    String(r.failed),
    pct(r.failureRate),
    triple(r.durationP50, r.durationP95, r.durationP99),
    triple(r.queueWaitP50, r.queueWaitP95, r.queueWaitP99),
  ];
}

export function formatStats(s: StatsResult): string {
  const head = [
    s.groupBy.toUpperCase(),
    'JOBS',
    'FAILED',
    'FAIL RATE',
    'RUN s p50/95/99',
    'WAIT s p50/95/99',
  ];
  const groups = table([head, ...s.rows.map(rowCells), rowCells(s.totals)]);
  const note =
    'FAIL RATE = failed / (completed + failed): jobs still running, cancelled or expired are left out';
  const days = table([
    ['DAY (UTC)', 'CREATED', 'COMPLETED', 'FAILED'],
    ...s.throughput.map((d) => [d.day, String(d.created), String(d.completed), String(d.failed)]),
  ]);
  const window = s.from || s.to ? `created ${s.from ?? '…'} to ${s.to ?? '…'} (UTC, inclusive)\n\n` : '';
  return `${window}${groups}\n${note}\n\n${days}\n`;
}

export function registerStatsCommand(program: Command): void {
  program
    // Its flags and help: commands/stats.ts.
    .command('stats')
    .action(async (flags: StatsFlags, cmd: Command) => {
      const { config, json } = cliContext(cmd);
      const query: Record<string, string | string[]> = { ...filterFlagsToQuery(flags), by: flags.by };
      if (flags.from !== undefined) query.from = flags.from;
      if (flags.to !== undefined) query.to = flags.to;
      const parsed = parseStatsQuery(query);
      if (!parsed.ok) {
        const detail = parsed.body.detail.map((d) => {
          const name = d.loc[1];
          const flag =
            name === 'from_date' && flags.from ? 'from' : name === 'to_date' && flags.to ? 'to' : name;
          return { ...d, loc: [d.loc[0] ?? 'query', flag ?? 'query', ...d.loc.slice(2)] };
        });
        throw new CliError(validationMessage(detail), 2);
      }
      const mirror = await openReadMirror(config);
      try {
        const result = await mirror.jobs.stats(parsed.options);
        process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : formatStats(result));
        // As `jobs list` and `export`: an empty answer says so, and why when the range is reversed.
        if (result.totals.count === 0) {
          const { from, to } = parsed.options;
          const names = {
            from: flags.from !== undefined ? '--from' : '--from-date',
            to: flags.to !== undefined ? '--to' : '--to-date',
          };
          process.stderr.write(`${emptyReason({ from_date: from, to_date: to }, names)}\n`);
        }
      } finally {
        await mirror.close();
      }
    });
}
