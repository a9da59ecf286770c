/**
 * `retab-mirror copy --from <file-or-url> --to <file-or-url>`: move a mirror between stores with
 * mirror/pg/copyMirror.ts, with what a person at a terminal needs around it — a progress bar (log lines above
 * it), Ctrl-C that stops after the batch in flight (exit 130; the same command resumes), a summary of the
 * verified counts, and one-line errors naming the flag at fault.
 *
 * The target decides whether the copy may run (`planCopy`): an empty store, or the target of an earlier copy
 * of this same source (its tables hold the source's first rows, keys and ids equal), which is resumed — a
 * copy that finished is such a target too, so rerunning it catches up and verifies again. Anything else is
 * another mirror, and merging two mirrors is refused rather than guessed at.
 */
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { registerSecret } from '../log.ts';
import {
  type CopyEnd,
  CopyTargetError,
  copyMirror,
  type MirrorLocation,
  MirrorLocationError,
  openCopyEnd,
  parseMirrorLocation,
  planCopy,
} from '../mirror/index.ts';
import { type ProgressBar, startProgressBar } from '../terminal.ts';
import { CliError, cliContext } from './context.ts';
import { onStopSignals } from './stopSignals.ts';

interface CopyFlags {
  from: string;
  to: string;
  batch: number;
}

type Flag = '--from' | '--to';

/** The messages of the store layer name `MIRROR_DB`; here the location came from a flag. */
const naming = (flag: Flag, message: string) =>
  message.replaceAll('MIRROR_DB=', `${flag} `).replaceAll('MIRROR_DB', flag);

function locate(flag: Flag, value: string): MirrorLocation {
  try {
    const loc = parseMirrorLocation(value);
    if (loc.kind === 'sqlite' && loc.path === ':memory:')
      throw new CliError(`${flag} :memory: holds nothing once the command ends; give a file path`, 2);
    return loc;
  } catch (err) {
    if (err instanceof MirrorLocationError) throw new CliError(naming(flag, err.message), 2);
    throw err;
  }
}

const shown = (loc: MirrorLocation) => (loc.kind === 'sqlite' ? loc.path : loc.masked);

/** Host, port and database of a PostgreSQL URL, as libpq defaults them: what makes two URLs one database. */
function pgIdentity(url: string): string {
  const u = new URL(url);
  const host = (u.searchParams.get('host') ?? u.hostname).toLowerCase().replace(/^localhost$/, '127.0.0.1');
  const user = decodeURIComponent(u.username) || 'postgres';
  const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || user;
  return `${host}:${u.port || '5432'}/${db}`;
}

function sameMirror(a: MirrorLocation, b: MirrorLocation): boolean {
  if (a.kind === 'postgres' && b.kind === 'postgres') return pgIdentity(a.url) === pgIdentity(b.url);
  if (a.kind === 'sqlite' && b.kind === 'sqlite') {
    const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
    return real(a.path) === real(b.path);
  }
  return false;
}

async function open(flag: Flag, loc: MirrorLocation, log: (msg: string) => void): Promise<CopyEnd> {
  if (loc.kind === 'postgres') registerSecret(decodeURIComponent(new URL(loc.url).password));
  try {
    return await openCopyEnd(loc, {
      onUpgrade: () => log(`${flag} ${shown(loc)}: upgrading its schema first`),
    });
  } catch (err) {
    throw new CliError(naming(flag, (err as Error).message));
  }
}

class Interrupted extends Error {}

const LOG_EVERY_MS = 5000;

export function registerCopyCommand(program: Command): void {
  program
    // Its flags and help: commands/copy.ts.
    .command('copy')
    .action(async (flags: CopyFlags, cmd: Command) => {
      const { logger, json } = cliContext(cmd);
      const from = locate('--from', flags.from);
      const to = locate('--to', flags.to);
      if (sameMirror(from, to))
        throw new CliError(`--from and --to name the same mirror (${shown(to)}); copy to another one`, 2);
      if (from.kind === 'sqlite' && !existsSync(from.path))
        throw new CliError(`--from ${from.path}: no such file; give the path of an existing mirror`, 2);

      const opened: CopyEnd[] = [];
      let bar: ProgressBar | undefined;
      let stopping = false;
      const disposeSignals = onStopSignals({
        onStop: () => {
          stopping = true;
          logger.warn('stopping after the batch in flight (Ctrl-C again to quit at once; the copy resumes)');
        },
        onForce: () => process.exit(130),
      });
      const started = Date.now();
      try {
        const source = await open('--from', from, (m) => logger.info(m));
        opened.push(source);
        const target = await open('--to', to, (m) => logger.info(m));
        opened.push(target);
        const plan = await planCopy(source, target).catch((err) => {
          throw err instanceof CopyTargetError ? new CliError(`--to ${shown(to)}: ${err.message}`) : err;
        });
        const already = plan.present.jobs ?? 0;
        if (plan.target === 'resume')
          logger.info(
            `resuming an earlier copy: ${already.toLocaleString('en-US')} of ${(plan.total.jobs ?? 0).toLocaleString('en-US')} jobs already in ${shown(to)}`,
          );

        const tty = process.stderr.isTTY === true && !json;
        bar = tty
          ? startProgressBar(
              {
                stream: process.stderr,
                format: 'copy {table} |{bar}| {value}/{total} rows | {rate}/s | ETA {eta_formatted}',
                hideCursor: true,
                etaBuffer: 20,
              },
              Math.max(1, plan.total.jobs ?? 0),
              already,
              { table: 'jobs', rate: 0 },
            )
          : undefined;
        let table = '';
        let tableStarted = Date.now();
        let lastLog = Date.now();
        let jobsCopied = 0;
        const counts = await copyMirror(source, target, {
          batch: flags.batch,
          onProgress: (p) => {
            if (p.table !== table) {
              table = p.table;
              tableStarted = Date.now();
              bar?.bar.setTotal(Math.max(1, p.total));
            }
            if (p.table === 'jobs') jobsCopied = p.copied;
            const done = (plan.present[p.table] ?? 0) + p.copied;
            const rate = Math.round(p.copied / Math.max(0.001, (Date.now() - tableStarted) / 1000));
            bar?.bar.update(done, { table: p.table, rate });
            if (!bar && Date.now() - lastLog >= LOG_EVERY_MS) {
              lastLog = Date.now();
              logger.info({ table: p.table, copied: done, total: p.total, rate }, 'copy progress');
            }
            if (stopping) throw new Interrupted();
          },
        }).catch((err) => {
          if (err instanceof Interrupted)
            throw new CliError(
              `copy interrupted: ${(already + jobsCopied).toLocaleString('en-US')} of ${(plan.total.jobs ?? 0).toLocaleString('en-US')} jobs are in ${shown(to)}; run the same command again to resume`,
              130,
            );
          if ((err as Error).name === 'CopyVerifyError') throw new CliError((err as Error).message);
          throw err;
        });
        bar?.stop();
        bar = undefined;
        const seconds = (Date.now() - started) / 1000;
        if (json) {
          process.stdout.write(
            `${JSON.stringify({ from: shown(from), to: shown(to), resumed: plan.target === 'resume', seconds, counts }, null, 2)}\n`,
          );
          return;
        }
        const width = Math.max(...Object.keys(counts).map((t) => t.length));
        process.stdout.write(
          [
            `copied ${shown(from)} → ${shown(to)} in ${seconds.toFixed(1)} s${plan.target === 'resume' ? ` (resumed: ${already.toLocaleString('en-US')} jobs were already there)` : ''}`,
            ...Object.entries(counts).map(([t, n]) => `  ${t.padEnd(width)}  ${n.toLocaleString('en-US')}`),
            'verified: every table has the same row count in both',
            '',
          ].join('\n'),
        );
      } finally {
        bar?.stop();
        disposeSignals();
        for (const s of opened.reverse()) await s.mirror.close();
      }
    });
}
