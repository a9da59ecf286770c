/** One demo per database file: a second one is refused in one line; a lock left by a killed demo is not. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { lockDemo } from '../../src/demo/demoLock.ts';

const dbPath = () => join(mkdtempSync(join(tmpdir(), 'demo-lock-')), 'demo.db');

it('refuses while another live process holds the file, naming its pid and --db', async () => {
  const db = dbPath();
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    writeFileSync(`${db}.lock`, String(other.pid));
    expect(() => lockDemo(db)).toThrow(
      new RegExp(`a demo is already running on .*demo\\.db \\(pid ${other.pid}\\).*--db`),
    );
  } finally {
    other.kill('SIGKILL');
  }
});

it('takes over a lock whose process is gone, and releases it', async () => {
  const db = dbPath();
  const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => gone.on('exit', r));
  writeFileSync(`${db}.lock`, String(gone.pid));
  const release = lockDemo(db);
  expect(existsSync(`${db}.lock`)).toBe(true);
  release();
  expect(existsSync(`${db}.lock`)).toBe(false);
});
