/**
 * Ctrl-C through every documented way to start the program reaches its own graceful stop: `npm run demo`,
 * `npm run cli -- sync`, `npx retab-mirror`, and PM2's apps (ecosystem.config.cjs). A terminal's Ctrl-C
 * signals the whole foreground process group, so the tests start each path in a group of its own and signal
 * the group; PM2 signals the app's pid only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const redisUrl = inject('redisUrl');
const NO_REDIS = 'redis://127.0.0.1:9';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stop-paths-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(command: string, args: string[], env: Record<string, string>, group = true): Run {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', SERVER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group, // a process group of its own, like a terminal's foreground job
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function until(what: string, run: Run, ready: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (run.child.exitCode !== null)
      throw new Error(`exited before ${what}:\n${run.stdout()}\n${run.stderr()}`);
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}:\n${run.stdout()}\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ctrl-C as a terminal sends it: SIGINT to every process of the foreground group. */
function ctrlC(run: Run): void {
  process.kill(-(run.child.pid as number), 'SIGINT');
}

/** Jobs committed to the mirror file so far (0 while it does not exist or has no schema yet). */
function committedJobs(dbPath: string): number {
  if (!existsSync(dbPath)) return 0;
  try {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

function walBytes(dbPath: string): number {
  return existsSync(`${dbPath}-wal`) ? statSync(`${dbPath}-wal`).size : 0;
}

async function demoKeys(prefix: string): Promise<string[]> {
  const redis = new Redis(redisUrl);
  try {
    return await redis.keys(`${prefix}-demo:*`);
  } finally {
    redis.disconnect();
  }
}

const demoArgs = (db: string) => ['--db', db, '--jobs', '300', '--days', '2'];

describe('Ctrl-C through each start path ends with the graceful stop', () => {
  it('npm run demo (BullMQ mode): the Done summary, npm reports the interrupt, WAL truncated, no Redis keys left', async () => {
    const db = join(dir, 'npm-demo.db');
    const prefix = `test-stop-${randomUUID().slice(0, 8)}`;
    const run = start('npm', ['run', 'demo', '--', ...demoArgs(db)], {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
    });
    await until('the live view', run, () => run.stdout().includes('Try, in another terminal'));
    ctrlC(run);
    const result = await run.exited;
    expect(run.stdout(), run.stderr()).toMatch(/Done: mirror \d+ jobs/);
    // npm re-raises the interrupt it received once its script has exited; the program itself exited cleanly.
    expect([0, 'SIGINT']).toContain(result.code ?? result.signal);
    expect(walBytes(db)).toBe(0);
    expect(await demoKeys(prefix)).toEqual([]);
  }, 120_000);

  it('npx retab-mirror demo (in-process mode): the Done summary and exit 0', async () => {
    const db = join(dir, 'npx-demo.db');
    const run = start('npx', ['--offline', 'retab-mirror', 'demo', ...demoArgs(db)], { REDIS_URL: NO_REDIS });
    await until('the live view', run, () => run.stdout().includes('Try, in another terminal'));
    ctrlC(run);
    const result = await run.exited;
    expect(run.stdout(), run.stderr()).toMatch(/Done: mirror \d+ jobs/);
    expect([0, 'SIGINT']).toContain(result.code ?? result.signal);
    expect(walBytes(db)).toBe(0);
  }, 120_000);

  describe('with a slow upstream', () => {
    let sim: Simulator;
    beforeAll(async () => {
      sim = await startSimulator({
        seed: 3,
        jobs: 400,
        days: 3,
        faults: { probabilities: { slow: 1 }, slowMs: 200, routes: ['list'] },
      });
    });
    afterAll(() => sim.close());

    it('npm run cli -- sync: "sync interrupted; run again to continue" after the page in flight', async () => {
      const db = join(dir, 'npm-sync.db');
      const env = { RETAB_API_KEY: sim.apiKey, RETAB_BASE_URL: sim.url, MIRROR_DB: db, PAGE_SIZE: '10' };
      const run = start('npm', ['run', 'cli', '--', 'sync', '--no-progress', '--backfill-days', '3'], env);
      // Pages committed, not only the file: the file (and its schema) exists before the program listens for
      // signals, and on a busy machine a Ctrl-C in between would meet Node's default handler.
      await until('a few committed pages', run, () => committedJobs(db) > 0, 60_000);
      await new Promise((r) => setTimeout(r, 500));
      ctrlC(run);
      const result = await run.exited;
      expect(run.stdout(), run.stderr()).toContain('sync interrupted; run again to continue');
      expect([130, 'SIGINT']).toContain(result.code ?? result.signal);
      expect(walBytes(db)).toBe(0);
    }, 120_000);

    it("PM2's apps (ecosystem.config.cjs): SIGINT to the pid, exit 0 within kill_timeout", async () => {
      const require = createRequire(import.meta.url);
      const { apps } = require(join(ROOT, 'ecosystem.config.cjs')) as {
        apps: { name: string; script: string; args: string; kill_timeout: number }[];
      };
      const db = join(dir, 'pm2.db');
      const env = {
        RETAB_API_KEY: sim.apiKey,
        RETAB_BASE_URL: sim.url,
        MIRROR_DB: db,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: `test-stop-${randomUUID().slice(0, 8)}`,
        EVENTS_QUEUE_ENABLED: 'false',
        PAGE_SIZE: '10',
      };
      // The worker first: it creates the file the server reads.
      for (const app of apps) {
        expect(app.script).toBe('bin/retab-mirror.js'); // run by node itself: PM2's signal reaches the program
        const run = start(process.execPath, [join(ROOT, app.script), ...app.args.split(' ')], env, false);
        await until(`${app.name} to start`, run, () =>
          /serving the mirror|worker started|scheduler/i.test(run.stdout() + run.stderr()),
        );
        const t0 = Date.now();
        run.child.kill('SIGINT');
        const result = await run.exited;
        expect(result, `${app.name}\n${run.stdout()}\n${run.stderr()}`).toEqual({ code: 0, signal: null });
        expect(Date.now() - t0).toBeLessThan(app.kill_timeout);
      }
      expect(walBytes(db)).toBe(0);
    }, 120_000);
  });
});
