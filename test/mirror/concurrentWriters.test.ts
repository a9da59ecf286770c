// SQLite only (issue #21): two processes writing one SQLite FILE (its lock and busy timeout). PostgreSQL's
// concurrent writers are test/pg/concurrentWriters.test.ts (row locks in a fixed order, the outbox's commit order).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countJobs, openMirror } from '../../src/mirror/index.ts';

const execFileP = promisify(execFile);

/** Runs a child to completion; resolves with its output even when it fails, so a failure shows its stderr. */
async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileP(process.execPath, args, { cwd: ROOT, timeout: 60_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { stdout: e.stdout ?? '', stderr: (e.stderr ?? e.message).split('\n').slice(0, 8).join('\n') };
  }
}
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'retab-mirror-writers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// Each writer applies pages that share half their jobs with the other writer's pages, as two sync tasks do.
const WRITER = (root: string) => `
import { applyPage, openMirror } from ${JSON.stringify(join(root, 'src/mirror/index.ts'))};
const [path, who] = process.argv.slice(2);
const m = openMirror(path);
const job = (id, status) => ({ id, object: 'job', status, endpoint: '/v1/documents/parse', request: null,
  response: null, error: null, created_at: 1790000000, started_at: null, completed_at: null,
  expires_at: 1790604800, organization_id: 'org', metadata: { writer: who } });
for (let p = 0; p < 200; p++) {
  const page = [];
  for (let i = 0; i < 20; i++) page.push(job('job_shared_' + p + '_' + i, 'queued'));
  for (let i = 0; i < 20; i++) page.push(job('job_' + who + '_' + p + '_' + i, 'queued'));
  applyPage(m, page, { observedAt: Date.now(), checkpoint: { partition: who, pagesDelta: 1 } });
}
m.close();
console.log('done');
`;

describe('concurrent writers', () => {
  it('two processes applying pages to the same file both succeed, nothing lost', async () => {
    const path = join(dir, 'mirror.db');
    openMirror(path).close();
    const script = join(dir, 'writer.ts');
    writeFileSync(script, WRITER(ROOT));
    const outs = await Promise.all(['a', 'b'].map((who) => run(['--import', 'tsx', script, path, who])));
    expect(outs.map((o) => o.stderr)).toEqual(['', '']);
    expect(outs.map((o) => o.stdout.trim())).toEqual(['done', 'done']);
    const m = openMirror(path);
    try {
      expect(countJobs(m)).toBe(200 * 20 * 3);
      const pages = m.sqlite.prepare('SELECT partition, pages FROM sync_state ORDER BY partition').all();
      expect(pages).toEqual([
        { partition: 'a', pages: 200 },
        { partition: 'b', pages: 200 },
      ]);
      // One discovery per job, whichever writer saw it first.
      expect(
        m.sqlite.prepare("SELECT count(*) FROM job_events WHERE type = 'job.discovered'").pluck().get(),
      ).toBe(200 * 20 * 3);
    } finally {
      m.close();
    }
  });
});
