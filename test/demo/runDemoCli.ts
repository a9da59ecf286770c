import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;

export interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  dbPath: string;
  mirrorRows: number;
  /** Runs of the active sweep the demo recorded (the scheduler's, between the backfill and the last pass). */
  activeRuns: number;
}

/** Runs `retab-mirror demo` as a user would (a child process, piped output) and counts the rows it left. */
export async function runDemoCli(env: Record<string, string>, args: string[]): Promise<DemoRun> {
  const dir = mkdtempSync(join(tmpdir(), 'demo-'));
  const dbPath = join(dir, 'demo.db');
  const child = spawn(process.execPath, [bin, 'demo', '--db', dbPath, ...args], {
    cwd: dir,
    env: { ...process.env, SERVER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const db = new Database(dbPath, { readonly: true });
  const mirrorRows = (db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
  const activeRuns = (
    db.prepare("SELECT count(*) AS n FROM sync_runs WHERE task = 'active'").get() as { n: number }
  ).n;
  db.close();
  return { code, stdout, stderr, dbPath, mirrorRows, activeRuns };
}

export function finalCounts(stdout: string): { mirror: number; simulator: number; mode: string } | null {
  const m = /Done: mirror (\d+) jobs · simulator (\d+) jobs · (\S+) mode/.exec(stdout);
  return m ? { mirror: Number(m[1]), simulator: Number(m[2]), mode: m[3]! } : null;
}
