/** `retab-mirror worker` as a real process: SIGTERM mid-run exits 0 and leaves no partial page behind. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { openMirror } from '../../src/mirror/openMirror.ts';
import { jobFilenames } from '../../src/retab/jobFields.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { dropPrefix, type TempDir, tempDir, waitFor } from './helpers.ts';

const redisUrl = inject('redisUrl');
const BIN = fileURLToPath(new URL('../../bin/retab-mirror.js', import.meta.url));
let sim: Simulator;
let tmp: TempDir;

beforeAll(async () => {
  // Every list answer takes a while, so a run is always in flight when the signal comes.
  sim = await startSimulator({
    seed: 5,
    jobs: 300,
    days: 3,
    faults: { probabilities: { slow: 1 }, slowMs: 250, routes: ['list'] },
  });
  tmp = tempDir();
});

afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

it('SIGTERM during a run: exit 0 within 10 s, every committed page whole, the run recorded', async () => {
  const prefix = `test-sigterm-${process.pid}-${Date.now()}`;
  const child = spawn(process.execPath, [BIN, 'worker'], {
    env: {
      PATH: process.env.PATH,
      RETAB_API_KEY: sim.apiKey,
      RETAB_BASE_URL: sim.url,
      MIRROR_DB: tmp.dbPath,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      PAGE_SIZE: '10',
      BACKFILL_DAYS: '3',
      EVENTS_QUEUE_ENABLED: 'false',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  try {
    // Wait until pages are being committed: the head backfill of 300 jobs needs ~30 slow pages.
    await waitFor(
      'the worker to commit a few pages',
      () => {
        if (child.exitCode !== null) throw new Error(`worker exited early:\n${stderr}`);
        const m = openMirror(tmp.dbPath, { readonly: true });
        try {
          return (m.sqlite.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n >= 30;
        } finally {
          m.close();
        }
      },
      { timeoutMs: 40_000, intervalMs: 200 },
    );
    child.kill('SIGTERM');
    const deadline = new Promise<'late'>((r) => setTimeout(() => r('late'), 10_000).unref());
    const result = await Promise.race([exited(child), deadline]);
    expect(result, stderr).toEqual({ code: 0, signal: null });
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await dropPrefix(redisUrl, prefix);
  }

  const mirror = openMirror(tmp.dbPath, { readonly: true });
  try {
    expect(mirror.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    // A page is rows + derived rows + checkpoint in one transaction: no job without its files/metadata.
    const rows = mirror.sqlite.prepare('SELECT id, request, metadata, has_request FROM jobs').all() as {
      id: string;
      request: string | null;
      metadata: string | null;
      has_request: number;
    }[];
    const files = mirror.sqlite.prepare('SELECT count(*) AS n FROM job_files WHERE job_id = ?');
    const meta = mirror.sqlite.prepare('SELECT count(*) AS n FROM job_metadata WHERE job_id = ?');
    expect(rows.length).toBeGreaterThanOrEqual(30);
    for (const r of rows) {
      const expectedFiles = r.has_request && r.request ? jobFilenames(JSON.parse(r.request)).length : 0;
      expect((files.get(r.id) as { n: number }).n, r.id).toBe(expectedFiles);
      const expectedMeta = r.metadata ? Object.keys(JSON.parse(r.metadata)).length : 0;
      expect((meta.get(r.id) as { n: number }).n, r.id).toBe(expectedMeta);
    }
    const runs = mirror.sqlite.prepare('SELECT partition, outcome FROM sync_runs').all() as {
      partition: string;
      outcome: string;
    }[];
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) expect(['success', 'aborted']).toContain(run.outcome);
    expect(runs.some((r) => r.outcome === 'aborted')).toBe(true);
    // A service's info lines go to stdout, warnings and errors to stderr (PM2's out and error logs).
    expect(stdout).toContain('worker stopped');
    expect(stderr).not.toContain('worker stopped');
  } finally {
    mirror.close();
  }
});
