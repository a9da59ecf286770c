/**
 * `retab-mirror sync` as a user runs it (a child process against the simulator over HTTP): failures are
 * honest (non-zero exit, one-line cause, the run recorded as failed), and SIGINT stops after a committed
 * page with exit 130, leaving a checkpoint the next run continues from. On each store (test/stores.ts:
 * MIRROR_DB is a file or the PostgreSQL URL); a corrupt database file is SQLite's alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/mirror/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { sqlCount } from '../storeSql.ts';
import { forEachStore } from '../stores.ts';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let sim: Simulator;
let dir: string;
/** MIRROR_DB of the children: a file in `dir` by default, the store's location in the store suites. */
let db: string;

beforeEach(async () => {
  sim = await startSimulator({ seed: 3, jobs: 1500, days: 2 });
  dir = mkdtempSync(join(tmpdir(), 'retab-sync-cli-'));
  db = join(dir, 'mirror.db');
});
afterEach(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

function sync(args: string[], env: Record<string, string> = {}, onSpawn?: (kill: () => void) => void) {
  return new Promise<Result>((resolve) => {
    const child = spawn(process.execPath, [bin, 'sync', ...args], {
      env: {
        ...process.env,
        RETAB_BASE_URL: sim.url,
        RETAB_API_KEY: sim.apiKey,
        MIRROR_DB: db,
        MAX_RETRIES: '1',
        LOG_LEVEL: 'warn',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onSpawn?.(() => child.kill('SIGINT'));
  });
}

const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? '';
/** Read the mirror the child wrote, as another process does. */
async function reading<T>(fn: (m: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const mirror = await openStore(db);
  try {
    return await fn(mirror);
  } finally {
    await mirror.close();
  }
}
const runsOf = () => reading((m) => m.runs.list({ limit: 100 }));

it('a corrupt database file: exit 1 with one line naming MIRROR_DB (SQLite: the file itself)', async () => {
  writeFileSync(db, 'this is not a database, just text that happens to be long enough');
  const corrupt = await sync([]);
  expect(corrupt.code).toBe(1);
  expect(corrupt.stderr.trim().split('\n')).toHaveLength(1);
  expect(corrupt.stderr).toContain('MIRROR_DB');
  expect(sim.stats.total).toBe(0);
});

forEachStore((store) => {
  beforeEach(async () => {
    db = await store.location();
  });

  describe('retab-mirror sync', () => {
    it('a wrong API key: exit 1, one line naming the cause, the run recorded as failed', async () => {
      const r = await sync([], { RETAB_API_KEY: 'sk-wrong-key-for-this-test' });
      expect(r.code).toBe(1);
      expect(lastLine(r.stderr)).toMatch(/^retab-mirror: sync failed: 401 .*RETAB_API_KEY/);
      expect(r.stderr).not.toContain('sk-wrong-key-for-this-test');
      const runs = await runsOf();
      expect(runs.map((x) => [x.task, x.outcome])).toEqual([['head', 'failed']]);
      expect(runs[0]?.error).toContain('401');
    });

    it('an upstream that keeps failing (500): non-zero exit and a failed run, never a success', async () => {
      sim.faults.set({ probabilities: { http500: 1 } });
      const r = await sync([]);
      expect(r.code).toBe(1);
      expect(lastLine(r.stderr)).toMatch(/^retab-mirror: sync failed: .*500 Internal Server Error/);
      const runs = await runsOf();
      expect(runs.some((x) => x.outcome === 'success')).toBe(false);
      expect(runs[0]).toMatchObject({ task: 'head', outcome: 'failed' });
      expect(sim.stats.count((q) => q.status === 500)).toBe(2); // the attempt and its one retry (MAX_RETRIES=1)
    });

    it('a missing key: exit 1 with one line naming the setting', async () => {
      const noKey = await sync([], { RETAB_API_KEY: '' });
      expect(noKey.code).toBe(1);
      expect(noKey.stderr.trim().split('\n')).toHaveLength(1);
      expect(noKey.stderr).toContain('RETAB_API_KEY');
      expect(sim.stats.total).toBe(0);
    });

    it('SIGINT stops after a committed page (exit 130, checkpoint kept); the next run completes', async () => {
      // Slow pages so the signal lands mid-backfill.
      sim.faults.set({ probabilities: { slow: 1 }, slowMs: 150 });
      const interrupted = await sync(['--backfill-days', '3', '--once'], {}, (kill) => {
        const poll = setInterval(() => {
          if (sim.stats.count((q) => q.route === 'list' && q.status === 200) >= 4) {
            clearInterval(poll);
            kill();
          }
        }, 20);
      });
      expect(interrupted.code).toBe(130);
      expect(interrupted.stdout).toContain('interrupted; run again to continue');
      const [mirrored, checkpoints] = await reading(async (m) => [
        await m.jobs.count(),
        await sqlCount(
          m,
          "SELECT count(*) FROM sync_state WHERE partition LIKE 'window:%' AND (cursor IS NOT NULL OR status = 'done')",
        ),
      ]);
      expect(mirrored).toBeGreaterThan(0);
      expect(mirrored).toBeLessThan(sim.store.size);
      expect(checkpoints).toBeGreaterThan(0);
      expect((await runsOf()).some((x) => x.outcome === 'aborted')).toBe(true);

      sim.faults.clear();
      const resumed = await sync(['--backfill-days', '3', '--json']);
      expect(resumed.code).toBe(0);
      const summary = JSON.parse(resumed.stdout);
      expect(summary.outcome).toBe('success');
      expect(summary.windows).toEqual({ done: 4, total: 4 }); // days touching [now − 3 d, now]
      const total = Object.values(summary.jobsByStatus as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(total).toBe(sim.store.size);
      // The second run did not start over: fewer new jobs than the whole store.
      expect(summary.totals.inserted).toBe(sim.store.size - mirrored);
    });
  });
});
