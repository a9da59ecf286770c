import type { Command } from 'commander';
import type { PartitionRun, StatusReport } from '../queue/index.ts';
import { cliContext } from './context.ts';

function duration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

const ago = (at: number | null, now: number) =>
  at === null ? '-' : `${duration(Math.max(0, now - at))} ago`;

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd()).join('\n');
}

/** Window partitions can number in the hundreds after a backfill: one summary line instead. */
function windowsLine(windows: PartitionRun[], now: number): string {
  const byOutcome = new Map<string, number>();
  for (const w of windows) byOutcome.set(w.outcome, (byOutcome.get(w.outcome) ?? 0) + 1);
  const counts = [...byOutcome].map(([o, n]) => `${n} ${o}`).join(', ');
  const latest = windows.reduce((a, b) =>
    (b.finishedAt ?? b.startedAt) > (a.finishedAt ?? a.startedAt) ? b : a,
  );
  return `  windows: ${windows.length} (${counts}); latest ${latest.partition} ${latest.outcome}, ${latest.jobs} jobs, ${ago(latest.finishedAt ?? latest.startedAt, now)}`;
}

/**
 * The live workers of the fleet (their presence in Redis): host, pid, uptime, the partitions they run now, and
 * the leases each holds; then leases whose holder is gone (they expire by themselves within LEASE_TTL_MS).
 */
function fleetLines(fleet: NonNullable<StatusReport['fleet']>): string[] {
  const out = ['', 'Live workers'];
  if (fleet.workers.length === 0) out.push('  none');
  else
    out.push(
      table([
        ['HOST', 'PID', 'UP', 'VERSION', 'MIRROR', 'RUNNING', 'LEASES'],
        ...fleet.workers.map((w) => [
          w.host,
          String(w.pid),
          duration(w.uptimeMs),
          w.version,
          w.mirror,
          `${w.running.length}/${w.concurrency}${w.running.length > 0 ? ` ${w.running.join(', ')}` : ''}`,
          w.leases.map((l) => l.name).join(', ') || '-',
        ]),
      ]),
    );
  for (const l of fleet.orphanLeases)
    out.push(`  lease ${l.name} of ${l.owner} (no longer live): expires in ${duration(l.ttlMs)}`);
  return out;
}

export function formatStatus(r: StatusReport): string {
  const now = r.at;
  const out: string[] = [];
  out.push(`Mirror      ${r.mirror.path}${r.mirror.ok ? '' : ` — unavailable: ${r.mirror.error}`}`);
  out.push(
    `Sync lag    ${r.syncLagMs === null ? 'no successful active sweep yet' : `${duration(r.syncLagMs)} (since the last successful active sweep)`}`,
  );
  out.push(
    `Redis       ${r.redis.url}${r.redis.reachable ? '' : ` — unreachable: ${r.redis.error}; schedule and queue unknown`}`,
    `Prefix      ${r.redis.queuePrefix} (QUEUE_PREFIX; the demo uses ${r.redis.queuePrefix}-demo)`,
  );
  const idle = r.workers === 0;
  if (r.workers !== undefined)
    out.push(
      `Workers     ${idle ? 'none running: nothing syncs until `retab-mirror worker` starts' : `${r.workers} running`}`,
    );
  if (r.fleetRate) {
    const f = r.fleetRate;
    out.push(
      `Requests    ${f.perSecond.toFixed(1)}/s upstream from the whole fleet over the last ${f.windowSeconds} s (peak ${f.peakPerSecond}/s)`,
    );
  }
  if (r.queue) {
    const q = r.queue;
    out.push(
      `Queue       waiting ${q.waiting + q.prioritized} · active ${q.active} · delayed ${q.delayed} · failed ${q.failed} · completed ${q.completed}`,
    );
  }
  if (r.fleet) out.push(...fleetLines(r.fleet));
  if (r.schedulers) {
    out.push('', 'Schedulers');
    if (r.schedulers.length === 0) out.push('  none (start `retab-mirror worker` to create them)');
    else
      out.push(
        table([
          ['ID', 'EVERY', 'NEXT RUN'],
          ...r.schedulers.map((s) => [
            s.id,
            duration(s.everyMs),
            s.nextRunAt === null
              ? '-'
              : idle
                ? 'when a worker starts'
                : s.nextRunAt <= now
                  ? 'due now'
                  : `in ${duration(s.nextRunAt - now)} (${new Date(s.nextRunAt).toISOString()})`,
          ]),
        ]),
      );
  }
  out.push('', 'Last run per partition');
  const windows = r.runs.filter((x) => x.partition.startsWith('window:'));
  const others = r.runs.filter((x) => !x.partition.startsWith('window:'));
  if (r.runs.length === 0) out.push('  no runs recorded yet');
  if (others.length > 0) {
    out.push(
      table([
        ['PARTITION', 'OUTCOME', 'JOBS', 'REQUESTS', 'DURATION', 'FINISHED', 'ERROR'],
        ...others.map((x) => [
          x.partition,
          x.outcome,
          String(x.jobs),
          String(x.requests),
          duration(x.durationMs),
          ago(x.finishedAt, now),
          x.error ?? '',
        ]),
      ]),
    );
  }
  if (windows.length > 0) out.push(windowsLine(windows, now));
  return `${out.join('\n')}\n`;
}

export function registerStatusCommand(program: Command): void {
  program
    // Its flags and help: commands/status.ts.
    .command('status')
    .action(async (_opts, cmd: Command) => {
      const { config, json } = cliContext(cmd);
      const { collectStatus } = await import('../queue/index.ts');
      const report = await collectStatus({ config });
      process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
    });
}
