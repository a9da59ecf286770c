/**
 * `demo --db <folder>`: one line naming the folder and the flag, exit 2 like a bad setting — not the raw
 * EISDIR of the fresh start's rmSync (src/demo/runDemo.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;

it('demo --db pointing at a folder: one line, exit 2, the folder left as it was', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-folder-'));
  try {
    const r = spawnSync(process.execPath, [bin, 'demo', '--db', dir, '--duration', '1'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, SERVER_PORT: '0' },
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe(
      `retab-mirror: ${dir} is a folder; point --db at a file, e.g. ${join(dir, 'demo.db')}\n`,
    );
    expect(r.stdout).toBe('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
