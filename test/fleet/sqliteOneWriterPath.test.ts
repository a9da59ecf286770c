/**
 * Breaker #22b: the SQLite one-writer lock is keyed by `resolve(MIRROR_DB)`, not by the file itself, so the
 * same mirror reached through a symlink (a common deployment layout: /data -> /var/lib/...) or a hard link
 * gets a second `<path>.lock` and a second writer is let in. Expected: refused like the same path.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { lockMirrorWriter, MirrorWriterBusy } from '../../src/mirror/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'retab-onewriter-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a second writer through a symlink to the same SQLite file is refused', async () => {
  const real = join(dir, 'mirror.db');
  const link = join(dir, 'link.db');
  writeFileSync(real, '');
  symlinkSync(real, link);
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    // Another live process (a worker) writes the file under its real path.
    writeFileSync(`${real}.lock`, JSON.stringify({ pid: live.pid, host: hostname(), role: 'worker' }));
    expect(() => lockMirrorWriter(real, 'worker')).toThrow(MirrorWriterBusy);
    // The same file through the symlink: must be refused too.
    let release: (() => void) | undefined;
    try {
      expect(() => {
        release = lockMirrorWriter(link, 'worker');
      }).toThrow(MirrorWriterBusy);
    } finally {
      release?.();
    }
  } finally {
    live.kill('SIGKILL');
  }
});
