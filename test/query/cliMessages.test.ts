/**
 * The read commands' small messages, end to end (`node bin/retab-mirror.js` on a temp mirror): an empty answer
 * says so and why, a regex that is not RE2 is named once, a bad date is named once, a folder as MIRROR_DB is
 * named, and CSV cells from upstream can never run as spreadsheet formulas. The answers read from a mirror
 * run on each store (test/stores.ts: MIRROR_DB is a file or the PostgreSQL URL); the refusals made before a
 * mirror is opened, and the upstream's answers, run once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/mirror/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { forEachStore } from '../stores.ts';
import { loadStore, makeJob } from './helpers.ts';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
let dir: string;
/** The mirror the commands of the running store read (MIRROR_DB). */
let location: string;
type Result = { status: number | null; stdout: string; stderr: string };

function run(args: string[], db = location): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, MIRROR_DB: db, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const HOSTILE = ['=HYPERLINK("http://evil.test","x")', '+1+1', '-2+3', '@SUM(A1)'];

const JOBS = [
  makeJob({ filenames: [`${HOSTILE[0]}.pdf`] }),
  makeJob({
    status: 'failed',
    error: { code: 'x', message: HOSTILE[1] as string },
    metadata: { workflow_id: HOSTILE[2] as string },
    filenames: [`${HOSTILE[3]}.pdf`],
  }),
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'retab-query-messages-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('refused before a mirror is opened', () => {
  it('a bad date is named once; MIRROR_DB pointing at a folder is named', async () => {
    const [date, folder] = await Promise.all([
      run(['jobs', 'list', '--from-date', 'yesterday'], join(dir, 'none.db')),
      run(['jobs', 'list'], dir),
    ]);
    expect(date.status).toBe(2);
    expect(date.stderr.match(/--from-date/g)).toHaveLength(1);
    expect(folder.status).toBe(1);
    expect(folder.stderr).toMatch(/^retab-mirror: .* is a folder; point MIRROR_DB at a file/);
    expect(folder.stderr).not.toContain('EISDIR');
  });
});

forEachStore((store) => {
  beforeAll(async () => {
    location = await store.location();
    const writer = await openStore(location);
    await loadStore(writer, JOBS);
    await writer.close();
  });

  describe('read commands say what an answer means', () => {
    it('no match: "no jobs match" on stderr, no bare header, exit 0; a reversed range says why', async () => {
      const [none, reversed, exported, tail] = await Promise.all([
        run(['jobs', 'list', '--status', 'cancelled']),
        run(['jobs', 'list', '--from-date', '2026-11-05', '--to-date', '2026-11-01']),
        run(['export', '--status', 'cancelled']),
        run(['events', 'tail', '--type', 'job.missing_upstream']),
      ]);
      expect(none).toEqual({ status: 0, stdout: '', stderr: 'no jobs match\n' });
      expect(reversed.status).toBe(0);
      expect(reversed.stderr).toBe('no jobs match: --from-date 2026-11-05 is after --to-date 2026-11-01\n');
      expect(exported).toEqual({ status: 0, stdout: '', stderr: 'no jobs match\n' });
      expect(tail).toEqual({ status: 0, stdout: '', stderr: 'no events match\n' });
    });

    it('a --filename-regex that is not RE2: one warning, then matched as plain text', async () => {
      const r = await run(['jobs', 'list', '--filename-regex', '*.pdf']);
      expect(r.status).toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(
        /^retab-mirror: warning: --filename-regex "\*\.pdf" is not a valid RE2 pattern .*plain text/,
      );
      expect(lines).toHaveLength(2); // the warning, and "no jobs match"
    });

    it('stats over a reversed range says why it is empty, naming the flags given (stderr, exit 0); FAIL RATE is explained', async () => {
      const [dates, short, fine] = await Promise.all([
        run(['stats', '--from-date', '2026-11-20', '--to-date', '2026-11-10']),
        run(['stats', '--from', '2026-11-20', '--to', '2026-11-10']),
        run(['stats']),
      ]);
      expect(dates.status).toBe(0);
      expect(dates.stderr).toBe('no jobs match: --from-date 2026-11-20 is after --to-date 2026-11-10\n');
      expect(short.status).toBe(0);
      expect(short.stderr).toBe('no jobs match: --from 2026-11-20 is after --to 2026-11-10\n');
      expect(fine.stderr).toBe('');
      expect(fine.stdout).toContain('FAIL RATE = failed / (completed + failed)');
    });
  });

  describe('CSV from upstream strings', () => {
    it('jobs list --csv and export --format csv: no cell starts with = + - @ (escaped with a quote)', async () => {
      const outputs = await Promise.all([
        run(['jobs', 'list', '--csv', '--all']),
        run(['export', '--format', 'csv']),
      ]);
      for (const r of outputs) {
        expect(r.status, r.stderr).toBe(0);
        const cells = r.stdout
          .trimEnd()
          .split('\r\n')
          .flatMap((line) => line.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/))
          .map((c) => (c.startsWith('"') ? c.slice(1, -1).replaceAll('""', '"') : c));
        expect(cells.filter((c) => /^[=+\-@]/.test(c))).toEqual([]);
        for (const h of HOSTILE) expect(cells.some((c) => c.startsWith(`'${h}`))).toBe(true);
      }
    });
  });
});

describe('upstream answers', () => {
  it('RETAB_BASE_URL without /v1: the 404 of /jobs says to add /v1', async () => {
    const sim = await startSimulator({ seed: 2, jobs: 5, days: 1 });
    try {
      // A bare origin gets /v1 from the config; a base URL with a path is taken as written.
      const origin = `${new URL(sim.url).origin}/api`;
      const r = await new Promise<Result>((resolve) => {
        const child = spawn(process.execPath, [bin, 'sync', '--no-progress'], {
          cwd: dir,
          env: {
            ...process.env,
            MIRROR_DB: `${dir}/upstream.db`,
            RETAB_API_KEY: sim.apiKey,
            RETAB_BASE_URL: origin,
            LOG_LEVEL: 'silent',
          },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`404`);
      expect(r.stderr).toContain(`RETAB_BASE_URL has no /v1: set it to ${origin}/v1`);
    } finally {
      await sim.close();
    }
  });
});
