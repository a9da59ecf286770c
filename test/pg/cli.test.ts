/**
 * The CLI end to end on PostgreSQL, as a user runs it (child processes, `MIRROR_DB=postgres://…`): `sync`
 * against the simulator, then `jobs list`, `stats`, `export`, `events tail` and `status` answer exactly as the
 * same commands do on an SQLite file synced from the same upstream. Bad locations fail in one line with the password masked: a
 * typo'd scheme exits 2, an unreachable server exits 1 naming MIRROR_DB.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from './pgDatabase.ts';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
const redisUrl = inject('redisUrl');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let sim: Simulator;
let db: TestDatabase;
let pgUrl: string;
let dir: string;
let file: string;

function cli(args: string[], mirrorDb: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: {
        ...process.env,
        RETAB_BASE_URL: sim.url,
        RETAB_API_KEY: sim.apiKey,
        MIRROR_DB: mirrorDb,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: `pg-cli-${process.pid}`,
        MAX_RETRIES: '1',
        LOG_LEVEL: 'warn',
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
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, jobs: 600, days: 2 });
  db = await createTestDatabase();
  const u = new URL(db.url);
  u.password = 's3cret'; // trust auth accepts it; it must never be printed
  pgUrl = u.toString();
  dir = mkdtempSync(join(tmpdir(), 'pg-cli-'));
  file = join(dir, 'mirror.db');
});
afterAll(async () => {
  await sim?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('retab-mirror on MIRROR_DB=postgres://', () => {
  it('sync, then jobs list, stats and status answer as on SQLite', async () => {
    const [pgSync, fileSync] = [await cli(['sync'], pgUrl), await cli(['sync'], file)];
    expect(pgSync.stderr).toBe('');
    expect(pgSync.code).toBe(0);
    expect(fileSync.code).toBe(0);

    const list = ['jobs', 'list', '--all', '--jsonl', '--include-request'];
    const [pgJobs, fileJobs] = [await cli(list, pgUrl), await cli(list, file)];
    expect(pgJobs.code).toBe(0);
    expect(pgJobs.stdout.trim().split('\n')).toHaveLength(sim.store.size);
    expect(pgJobs.stdout).toBe(fileJobs.stdout);

    const page = ['jobs', 'list', '--status', 'failed', '--limit', '7', '--json'];
    expect((await cli(page, pgUrl)).stdout).toBe((await cli(page, file)).stdout);

    for (const args of [
      ['stats', '--json'],
      ['stats', '--by', 'endpoint', '--json'],
    ]) {
      const [a, b] = [await cli(args, pgUrl), await cli(args, file)];
      expect(a.code).toBe(0);
      expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout));
    }

    const csv = ['export', '--format', 'csv', '--order', 'asc'];
    const [pgCsv, fileCsv] = [await cli(csv, pgUrl), await cli(csv, file)];
    expect(pgCsv.code).toBe(0);
    expect(pgCsv.stdout.trim().split('\n')).toHaveLength(sim.store.size + 1);
    expect(pgCsv.stdout).toBe(fileCsv.stdout);

    // The outbox: the same events in the same order (observation times differ: two syncs, two moments).
    const tail = ['events', 'tail', '--lines', '50', '--json'];
    const events = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .map(({ seq, type, jobId, from, to, occurredAt }) => ({ seq, type, jobId, from, to, occurredAt }));
    const [pgTail, fileTail] = [await cli(tail, pgUrl), await cli(tail, file)];
    expect(pgTail.code).toBe(0);
    expect(events(pgTail.stdout)).toHaveLength(50);
    expect(events(pgTail.stdout)).toEqual(events(fileTail.stdout));

    const status = await cli(['status', '--json'], pgUrl);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as { mirror: { path: string; ok: boolean }; runs: unknown[] };
    expect(report.mirror.ok).toBe(true);
    expect(report.mirror.path).toMatch(/^postgres:\/\/postgres:\*+@127\.0\.0\.1:5432\/t_/);
    expect(report.runs.length).toBeGreaterThan(0);
    for (const r of [pgSync, pgJobs, status]) expect(r.stdout + r.stderr).not.toContain('s3cret');
  });

  it('serve on a fresh database creates the schema and answers empty lists, health and metrics', async () => {
    const fresh = await createTestDatabase();
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
      env: { ...process.env, MIRROR_DB: fresh.url, RETAB_API_KEY: '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const base = await new Promise<string>((resolve, reject) => {
        const onData = (d: Buffer) => {
          out += String(d);
          const m = /serving the mirror on (http:\/\/[^/\s"]+)/.exec(out);
          if (m) resolve(m[1] as string);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const list = (await (await fetch(`${base}/v1/jobs`)).json()) as { data: unknown[] };
      expect(list.data).toEqual([]);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('retab_mirror_outbox_seq 0');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
      await fresh.drop();
    }
  });

  it('a typo in the scheme: exit 2, one line, password masked, no file created', async () => {
    const r = await cli(['jobs', 'list'], 'postgress://app:s3cret@127.0.0.1:5432/mirror');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/MIRROR_DB.*did you mean postgres:\/\//);
    expect(r.stderr).not.toContain('s3cret');
    expect(existsSync('postgress:')).toBe(false);
  });

  it('an unreachable server: exit 1, one line naming MIRROR_DB, password masked', async () => {
    const r = await cli(['sync'], 'postgres://app:s3cret@127.0.0.1:1/mirror');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^retab-mirror: cannot reach PostgreSQL at MIRROR_DB=postgres:\/\/app:\*+@127\.0\.0\.1:1\/mirror/,
    );
    expect(r.stderr).not.toContain('s3cret');
  });
});
