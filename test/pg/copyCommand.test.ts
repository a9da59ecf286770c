/**
 * `retab-mirror copy` through the real CLI on a 20k-job mirror: SQLite → PostgreSQL stopped by SIGINT mid-copy
 * and resumed by running the same command again, then PostgreSQL → SQLite; the three mirrors answer a matrix of
 * list queries (every filter kind, both orders, a second page by cursor) identically. And the refusals: a
 * typo'd scheme or the same mirror on both sides (exit 2), an unreachable server (one line, password masked),
 * a target that holds another mirror.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPage, type Mirror, openMirror, startRun } from '../../src/mirror/index.ts';
import { openPgMirror, type PgMirror } from '../../src/mirror/pg/openPgMirror.ts';
import { queryJobsPg } from '../../src/mirror/pg/queryJobsPg.ts';
import { queryJobs } from '../../src/mirror/queryJobs.ts';
import { setCursor } from '../../src/mirror/sqlite/cursors.ts';
import { recordDeadLetter } from '../../src/mirror/sqlite/deadLetters.ts';
import type { NormalizedListParams } from '../../src/retab/params.ts';
import type { JobList } from '../../src/retab/schemas.ts';
import { generateJobs, toJob } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from './pgDatabase.ts';

const BIN = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
const N = 20_000;
const NOW = Date.parse('2026-11-01T12:00:00Z');

let dir: string;
let db: TestDatabase;
let sourcePath: string;

/** A mirror of `n` simulator jobs (requests included), built by applyPage in pages of 2,000. */
function buildMirror(path: string, seed: number, n: number): Mirror {
  const m = openMirror(path);
  const recs = generateJobs(seed, n, 20, NOW);
  const include = { includeRequest: true, includeResponse: false };
  for (let i = 0; i < recs.length; i += 2000)
    applyPage(
      m,
      recs.slice(i, i + 2000).map((r) => toJob(r, 'org_copy', include)),
      {
        observedAt: NOW + i,
        backfill: true,
        partition: 'window:2026-10-20',
        checkpoint: { partition: 'window:2026-10-20', status: 'running', pagesDelta: 1 },
        ...(i === 0
          ? {
              rejected: [
                { index: 0, id: 'job_bad', raw: { id: 'job_bad' }, reason: 'status: bad', issues: [] },
              ],
            }
          : {}),
      },
    );
  return m;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'retab-copy-cli-'));
  db = await createTestDatabase();
  sourcePath = join(dir, 'source.db');
  const m = buildMirror(sourcePath, 11, N);
  startRun(m, { task: 'head', partition: 'head', startedAt: NOW });
  setCursor(m, 'log', 1234);
  recordDeadLetter(m, { sink: 'webhook:x', seq: 7, eventId: 'evt_x', attempts: 3, lastError: 'HTTP 500' });
  m.close();
}, 180_000);
afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], onSpawn?: (child: ChildProcess) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, LOG_LEVEL: 'info', RETAB_API_KEY: 'sk_test_copy' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    onSpawn?.(child);
  });
}

const count = async (pgm: PgMirror, table: string) =>
  (await pgm.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n as number;

/** The answers compared as they are: every column, `last_attempt_at` included, survives both copies. */
const comparable = (list: JobList) => list;

describe('retab-mirror copy', () => {
  it('SQLite → PostgreSQL (SIGINT mid-copy, then the same command resumes) → SQLite: same answers', async () => {
    const url = db.url;
    const pgm = await openPgMirror(url);
    try {
      // Stopped once some batches have committed: exit 130, a line saying how to resume, a partial target.
      const interrupted = await cli(
        ['copy', '--from', sourcePath, '--to', url, '--batch', '500'],
        (child) => {
          const poll = setInterval(async () => {
            if ((await count(pgm, 'jobs').catch(() => 0)) >= 1500) {
              clearInterval(poll);
              child.kill('SIGINT');
            }
          }, 50);
          child.on('close', () => clearInterval(poll));
        },
      );
      expect(interrupted.stderr).toMatch(
        /copy interrupted: [\d,]+ of 20,000 jobs .* run the same command again to resume/,
      );
      expect(interrupted.code).toBe(130);
      const partial = await count(pgm, 'jobs');
      expect(partial).toBeGreaterThanOrEqual(1500);
      expect(partial).toBeLessThan(N);

      const resumed = await cli(['copy', '--from', sourcePath, '--to', url, '--batch', '500']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toContain(
        `(resumed: ${partial.toLocaleString('en-US')} jobs were already there)`,
      );
      expect(resumed.stdout).toMatch(/jobs\s+20,000/);
      expect(resumed.stdout).toContain('verified');

      const backPath = join(dir, 'back.db');
      const back = await cli(['--json', 'copy', '--from', url, '--to', backPath]);
      expect(back.code, back.stderr).toBe(0);
      const summary = JSON.parse(back.stdout) as { counts: Record<string, number>; resumed: boolean };
      expect(summary.resumed).toBe(false);
      expect(summary.counts).toMatchObject({
        jobs: N,
        job_events: N,
        sync_runs: 1,
        quarantine: 1,
        event_dead_letters: 1,
        event_cursors: 1,
        sync_state: 1,
      });

      const source = openMirror(sourcePath, { readonly: true });
      const copy = openMirror(backPath, { readonly: true });
      try {
        const base: NormalizedListParams = {
          limit: 50,
          order: 'desc',
          include_request: true,
          include_response: false,
        };
        const sample = queryJobs(source, { ...base, limit: 1 }).data[0];
        const request = (sample?.request ?? {}) as { model?: string; project_id?: string };
        const [customer] = Object.entries(sample?.metadata ?? {});
        const day = new Date(((sample?.created_at ?? 0) - 3 * 86_400) * 1000).toISOString().slice(0, 10);
        const filters: Partial<NormalizedListParams>[] = [
          {},
          { order: 'asc' },
          { status: 'failed' },
          { status: 'completed', order: 'asc' },
          { endpoint: sample?.endpoint ?? 'none' },
          { source: 'workflow' },
          { source: 'api' },
          { model: request.model ?? 'none' },
          { project_id: request.project_id ?? 'none' },
          { from_date: day, to_date: day },
          ...(customer ? [{ metadata: { [customer[0]]: customer[1] } }] : []),
          { document_type: ['pdf'] },
          { filename_contains: 'INVOICE' },
          { filename_contains: '_0042' },
          { filename_regex: '.*_\\d{4}_\\d+\\.pdf' },
          { filename_regex: 'claim.*' },
          { status: 'in_progress', filename_contains: 'a' },
        ];
        let answered = 0;
        for (const f of filters) {
          const params: NormalizedListParams = { ...base, ...f };
          const want = queryJobs(source, params);
          if (want.data.length > 0) answered++;
          const label = JSON.stringify(f);
          expect(comparable(queryJobs(copy, params)), label).toEqual(comparable(want));
          expect(comparable(await queryJobsPg(pgm.pool, params)), label).toEqual(comparable(want));
          if (want.last_id && want.has_more) {
            const next: NormalizedListParams = { ...params, after: want.last_id };
            const want2 = queryJobs(source, next);
            expect(comparable(queryJobs(copy, next)), `${label} page 2`).toEqual(comparable(want2));
            expect(comparable(await queryJobsPg(pgm.pool, next)), `${label} page 2`).toEqual(
              comparable(want2),
            );
          }
        }
        // The matrix compares answers, not empty pages.
        expect(answered).toBeGreaterThanOrEqual(filters.length - 2);
      } finally {
        source.close();
        copy.close();
      }
    } finally {
      await pgm.close();
    }
  }, 240_000);

  it('refuses a typo’d scheme and the same mirror twice (exit 2), an unreachable server, another mirror', async () => {
    const typo = await cli(['copy', '--from', sourcePath, '--to', 'postgress://bob:hunter22@127.0.0.1/db']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('--to postgress://bob:');
    expect(typo.stderr).toContain('did you mean postgres://?');

    const same = await cli(['copy', '--from', sourcePath, '--to', join(dir, '.', 'source.db')]);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('--from and --to name the same mirror');
    const samePg = await cli(['copy', '--from', db.url, '--to', db.url.replace('127.0.0.1', 'localhost')]);
    expect(samePg.code).toBe(2);

    const down = await cli(['copy', '--from', sourcePath, '--to', 'postgres://bob:hunter22@127.0.0.1:1/db']);
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toContain('cannot reach PostgreSQL at --to postgres://bob:');
    expect(down.stderr).not.toContain('hunter22');

    const other = join(dir, 'other.db');
    buildMirror(other, 12, 50).close();
    const merge = await cli(['copy', '--from', sourcePath, '--to', other]);
    expect(merge.code).toBe(1);
    expect(merge.stderr).toContain('the target already holds a different mirror');
  }, 120_000);
});
