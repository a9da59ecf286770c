/**
 * SQLite stays one writer: a second `retab-mirror worker` on the same file is refused at start with one line
 * that says why and points to PostgreSQL, exits non-zero, and the first keeps running; a lock left by a
 * killed process is taken over; a demo and a worker refuse each other; PostgreSQL is not locked.
 */

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { lockDemo } from '../../src/demo/demoLock.ts';
import { lockMirrorWriter, MirrorWriterBusy } from '../../src/mirror/index.ts';
import { lockSqliteWriter } from '../../src/queue/oneWriter.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { dropPrefix, SIM_NOW, waitFor } from '../queue/helpers.ts';
import { cliEnv, STACK_LINE, spawnCli, type TempDir, tempDir } from '../reliability/helpers.ts';

const redisUrl = inject('redisUrl');
const prefix = `test-onewriter-${randomUUID().slice(0, 8)}`;
let sim: Simulator;
let tmp: TempDir;

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, jobs: 40, days: 2, now: SIM_NOW });
  tmp = tempDir('retab-onewriter-');
});

afterAll(async () => {
  await sim.close();
  tmp.cleanup();
  await dropPrefix(redisUrl, prefix);
});

it('a second worker on the same SQLite file is refused in one line pointing to PostgreSQL; the first keeps running', async () => {
  const env = cliEnv(sim, tmp.dbPath, { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'info' });
  const first = spawnCli(['worker'], env);
  try {
    await waitFor('the first worker to start', () => first.stdout.includes('worker started'), {
      timeoutMs: 30_000,
    });
    const lock = JSON.parse(readFileSync(`${tmp.dbPath}.lock`, 'utf8'));
    expect(lock).toEqual({ pid: first.child.pid, host: hostname(), role: 'worker' });

    const second = await spawnCli(['worker'], env, { timeoutMs: 30_000 }).exited;
    expect(second.signal, second.stderr).toBeNull();
    expect(second.code, second.stderr).toBe(1);
    const lines = second.stderr.trim().split('\n');
    expect(lines, second.stderr).toHaveLength(1);
    expect(lines[0]).toBe(
      `retab-mirror: MIRROR_DB ${tmp.dbPath} is already written by the worker pid ${first.child.pid} on host ${hostname()}; SQLite has one writer. To run several workers, copy the mirror to PostgreSQL (retab-mirror copy --from ${tmp.dbPath} --to postgres://…) and point every worker at it.`,
    );
    expect(second.stderr).not.toMatch(STACK_LINE);
    expect(second.stdout).not.toContain('worker started'); // refused before Redis, schedulers or sync

    expect(first.child.exitCode).toBeNull(); // the first one is untouched: still running, still locked
    expect(existsSync(`${tmp.dbPath}.lock`)).toBe(true);
    // A demo on the worker's file is refused too (it would recreate the file under the worker).
    expect(() => lockDemo(tmp.dbPath)).toThrow(
      `is already written by the worker pid ${first.child.pid} on host ${hostname()}; SQLite has one writer; stop the worker first, or give the demo another --db`,
    );
    // So is a one-off `sync` (it would race the worker, which runs the same tasks), before it sends a request.
    const sync = await spawnCli(['sync', '--no-progress'], env, { timeoutMs: 30_000 }).exited;
    expect(sync.code, sync.stderr).not.toBe(0);
    const syncLines = sync.stderr.trim().split('\n');
    expect(syncLines, sync.stderr).toHaveLength(1);
    expect(syncLines[0]).toContain(
      `is already written by the worker pid ${first.child.pid} on host ${hostname()}; SQLite has one writer. The worker already runs these syncs on its schedule: stop it first, or point MIRROR_DB at another file.`,
    );
    expect(sync.stderr).not.toMatch(STACK_LINE);
  } finally {
    first.child.kill('SIGTERM');
  }
  const stopped = await first.exited;
  expect(stopped.code, stopped.stderr).toBe(0);
  expect(existsSync(`${tmp.dbPath}.lock`)).toBe(false); // released on a graceful stop
}, 90_000);

it('a lock left by a killed worker is taken over; a live demo holder is named; another host is honoured', async () => {
  const db = `${tmp.dir}/other.db`;
  const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => gone.on('exit', r));
  writeFileSync(`${db}.lock`, JSON.stringify({ pid: gone.pid, host: hostname(), role: 'worker' }));
  const release = lockMirrorWriter(db, 'worker');
  expect(JSON.parse(readFileSync(`${db}.lock`, 'utf8')).pid).toBe(process.pid);
  // The same process may take it again (the demo's own worker, in-process tests): shared, released last.
  const again = lockMirrorWriter(db, 'worker');
  release();
  expect(existsSync(`${db}.lock`)).toBe(true);
  again();
  expect(existsSync(`${db}.lock`)).toBe(false);

  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    writeFileSync(`${db}.lock`, JSON.stringify({ pid: live.pid, host: hostname(), role: 'demo' }));
    expect(() => lockMirrorWriter(db, 'worker')).toThrow(MirrorWriterBusy);
    expect(() => lockMirrorWriter(db, 'worker')).toThrow(`by the demo pid ${live.pid} on host ${hostname()}`);
    // A worker while a demo writes the file: refused, told to stop the demo.
    expect(() => lockSqliteWriter({ dbPath: db })).toThrow(
      `MIRROR_DB ${db} is already written by the demo pid ${live.pid} on host ${hostname()}; SQLite has one writer. Stop the demo first, or point MIRROR_DB at another file.`,
    );
  } finally {
    live.kill('SIGKILL');
  }
  // A pid on another host cannot be checked from here: honoured, and the message says how to clear it.
  writeFileSync(`${db}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', role: 'worker' }));
  expect(() => lockMirrorWriter(db, 'worker')).toThrow(`(if that process is gone, delete ${db}.lock)`);
  // PostgreSQL mirrors are not locked: several workers share them by design.
  const pgRelease = lockSqliteWriter({ dbPath: 'postgres://u:secret@127.0.0.1:1/none' });
  pgRelease();
});
