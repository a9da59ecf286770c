/**
 * The read commands end to end: `node bin/retab-mirror.js` against a temp mirror (MIRROR_DB), on each store
 * (test/stores.ts: a file, or the PostgreSQL URL).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MirrorStore, openStore } from '../../src/mirror/index.ts';
import { parseListQuery } from '../../src/retab/params.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { forEachStore } from '../stores.ts';
import { loadStore } from './helpers.ts';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
let dir: string;
let jobs: Job[];
type Result = { status: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  const sim = await startSimulator({ seed: 11, jobs: 400, days: 4, now: Date.parse('2026-11-01T12:00:00Z') });
  jobs = sim.store.all();
  await sim.close();
  dir = mkdtempSync(join(tmpdir(), 'retab-query-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], db: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, MIRROR_DB: db, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const newestFirst = (xs: Job[]) =>
  [...xs].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1)).map((j) => j.id);

// Before any store is opened: the same on either store, so run once.
describe('refused before a mirror is opened', () => {
  it('a missing database file is a clear error', async () => {
    const r = await run(['jobs', 'list'], join(dir, 'nope.db'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no mirror at ${join(dir, 'nope.db')}: run retab-mirror sync first`);
  });

  it('bad flags fail with the API validation message and exit 2', async () => {
    const [r, meta] = await Promise.all([
      run(['jobs', 'list', '--limit', '500'], join(dir, 'nope.db')),
      run(['jobs', 'list', '--metadata', 'no-equals-sign'], join(dir, 'nope.db')),
    ]);
    expect(r.status).toBe(2);
    const parsed = parseListQuery({ limit: '500' });
    if (parsed.ok) throw new Error('expected a 422');
    expect(r.stderr).toContain(`--limit: ${parsed.body.detail[0]?.msg}`);
    expect(meta.status).toBe(2);
    expect(meta.stderr).toContain('--metadata expects key=value');
  });
});

forEachStore((store) => {
  let reader: MirrorStore;
  /** Every CLI run of this store, started at once (each spawn mostly waits on module loading). */
  const runs = new Map<string, Promise<Result>>();
  const result = (name: string): Promise<Result> => runs.get(name) as Promise<Result>;

  beforeAll(async () => {
    const location = await store.location();
    const writer = await openStore(location);
    await loadStore(writer, jobs);
    await writer.close();
    reader = await openStore(location, { readonly: true });
    const job = jobs[7] as Job;
    const commands: Record<string, string[]> = {
      listJson: ['jobs', 'list', '--status', 'failed', '--json'],
      listCsv: ['jobs', 'list', '--status', 'failed', '--csv', '--all'],
      export: ['export', '--format', 'jsonl'],
      stats: ['stats', '--by', 'endpoint', '--json'],
      badLimit: ['jobs', 'list', '--limit', '500'],
      badMeta: ['jobs', 'list', '--metadata', 'no-equals-sign'],
      get: ['jobs', 'get', job.id, '--json', '--include-request'],
      getMissing: ['jobs', 'get', 'job_not_there'],
    };
    for (const [name, args] of Object.entries(commands)) runs.set(name, run(args, location));
  });
  afterAll(async () => {
    await Promise.all(runs.values());
    await reader?.close();
  });

  describe('retab-mirror jobs / export / stats', () => {
    it('jobs list --status failed --json prints the same page as GET /v1/jobs', async () => {
      const r = await result('listJson');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const parsed = parseListQuery({ status: 'failed' });
      if (!parsed.ok) throw new Error('bad test params');
      expect(JSON.parse(r.stdout)).toEqual(await reader.jobs.query(parsed.params));
      expect(JSON.parse(r.stdout).data.length).toBe(20);
    });

    it('jobs list --csv --all: a header and every failed job, newest first', async () => {
      const r = await result('listCsv');
      expect(r.status).toBe(0);
      const lines = r.stdout.trimEnd().split('\r\n');
      expect(lines[0]?.startsWith('id,status,endpoint,source,created_at')).toBe(true);
      const failed = jobs.filter((j) => j.status === 'failed');
      expect(failed.length).toBeGreaterThan(20);
      expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(newestFirst(failed));
      expect(lines.slice(1).every((l) => l.split(',')[1] === 'failed')).toBe(true);
    });

    it('export --format jsonl streams every job in listing order', async () => {
      const r = await result('export');
      expect(r.status).toBe(0);
      const out = r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Job);
      expect(out.map((j) => j.id)).toEqual(newestFirst(jobs));
      expect(out.every((j) => j.request === null)).toBe(true);
      const byId = new Map(jobs.map((j) => [j.id, j]));
      expect(out[0]).toEqual({ ...byId.get(out[0]?.id as string), request: null, response: null });
    });

    it('stats --by endpoint --json matches a hand count', async () => {
      const r = await result('stats');
      expect(r.status).toBe(0);
      const s = JSON.parse(r.stdout) as {
        rows: { key: string; count: number; failed: number; completed: number }[];
        totals: { count: number; failed: number };
      };
      const hand = new Map<string, { count: number; failed: number; completed: number }>();
      for (const j of jobs) {
        const h = hand.get(j.endpoint) ?? { count: 0, failed: 0, completed: 0 };
        h.count++;
        if (j.status === 'failed') h.failed++;
        if (j.status === 'completed') h.completed++;
        hand.set(j.endpoint, h);
      }
      expect(
        Object.fromEntries(
          s.rows.map((x) => [x.key, { count: x.count, failed: x.failed, completed: x.completed }]),
        ),
      ).toEqual(Object.fromEntries(hand));
      expect(s.totals.count).toBe(jobs.length);
      expect(s.totals.failed).toBe(jobs.filter((j) => j.status === 'failed').length);
    });

    it('jobs get: the job as JSON, or exit 1 when the mirror does not have it', async () => {
      const job = jobs[7] as Job;
      const r = await result('get');
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ ...job, response: null });
      const missing = await result('getMissing');
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain('not found in the mirror');
    });
  });
});
