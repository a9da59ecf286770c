/**
 * Storage failures: the mirror file locked by another writer, a read-only file, a full disk. Each ends in a
 * clear error that names the cause, leaves the file intact, and a later run converges.
 */

import { createHash } from 'node:crypto';
import { chmodSync, closeSync, openSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { openMirror } from '../../src/mirror/openMirror.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { ACTIVE_STATUSES } from '../../src/retab/schemas.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type SyncOnceOptions, syncOnce } from '../../src/sync/syncOnce.ts';
import {
  cliEnv,
  integrity,
  outboxProblems,
  query,
  runCli,
  STACK_LINE,
  type TempDir,
  tempDir,
  truthDiff,
} from './helpers.ts';

const SIM_NOW = Date.parse('2026-11-01T12:00:00Z');
const OPTS: SyncOnceOptions = {
  pageSize: 20,
  payloadMode: 'request',
  overlapSeconds: 300,
  backfillDays: 3,
  activeStatuses: [...ACTIVE_STATUSES],
  // Reconcile too: a retry cycle that ends between two passes is only seen by a re-sweep of its day.
  reconcile: true,
};

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(seed: number): Promise<{ sim: Simulator; tmp: TempDir; sync: typeof syncWith }> {
  const sim = await startSimulator({ seed, jobs: 200, days: 2, now: SIM_NOW });
  const tmp = tempDir();
  cleanup.push(
    () => sim.close(),
    () => tmp.cleanup(),
  );
  return { sim, tmp, sync: syncWith };
  function syncWith(mirror = openMirror(tmp.dbPath), keepOpen = false) {
    const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url });
    return syncOnce({ client, mirror, logger: silentLogger, now: () => sim.clock.now() }, OPTS).finally(
      () => keepOpen || mirror.close(),
    );
  }
}

const fileHash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('storage failures', () => {
  it('a database locked by another writer: the sync fails after the busy timeout, naming the lock; the mirror is intact', async () => {
    const { sim, tmp, sync } = await setup(31);
    expect((await sync()).outcome).toBe('success');
    sim.clock.advance(60_000);
    const before = query(tmp.dbPath, 'SELECT * FROM jobs ORDER BY id');

    // Another process holds the write lock (a second writer, a backup tool, a stuck transaction).
    const mirror = openMirror(tmp.dbPath, { busyTimeoutMs: 200 });
    const other = new Database(tmp.dbPath, { timeout: 0 });
    cleanup.push(() => {
      other.close();
    });
    other.exec('BEGIN IMMEDIATE');
    other.prepare("UPDATE sync_state SET updated_at = updated_at WHERE partition = 'head'").run();

    // Opening waits for the lock (migrations take it), then says so.
    expect(() => openMirror(tmp.dbPath, { busyTimeoutMs: 200 })).toThrow(
      /cannot open mirror .*database is locked/,
    );
    // A mirror already open: the first write waits out the busy timeout, then the pass fails naming the lock.
    const started = Date.now();
    const pass = await sync(mirror);
    expect(pass.outcome).toBe('failed');
    expect(pass.error).toMatch(/SQLITE_BUSY.*database is locked/);
    expect(pass.retryable).toBe(true);
    // It waited for the lock before giving up.
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);

    // The user-facing run: the CLI (default 5 s busy timeout) exits 1 with one line naming the lock.
    const cli = await runCli(['sync', '--no-progress'], cliEnv(sim, tmp.dbPath));
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^retab-mirror: .*database is locked/m);
    expect(cli.stderr).not.toMatch(STACK_LINE);

    other.exec('ROLLBACK');
    expect(integrity(tmp.dbPath)).toEqual(['ok']);
    expect(query(tmp.dbPath, 'SELECT * FROM jobs ORDER BY id')).toEqual(before);
    // Once the lock is gone, a run converges.
    expect((await sync()).outcome).toBe('success');
    expect(truthDiff(sim, tmp.dbPath)).toEqual([]);
  });

  it('a read-only database file: a clear error, the file untouched', async () => {
    const { sim, tmp, sync } = await setup(32);
    expect((await sync()).outcome).toBe('success');
    sim.clock.advance(60_000);
    chmodSync(tmp.dbPath, 0o444);
    chmodSync(tmp.dir, 0o777);
    // As root, chmod does not stop writes: detect it and run the CLI as an unprivileged user instead, for
    // whom the mode bits apply (the directory stays writable, as a data folder usually is).
    let writable = true;
    try {
      closeSync(openSync(tmp.dbPath, 'r+'));
    } catch {
      writable = false;
    }
    const asUser = writable && process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    expect(writable && !('uid' in asUser), 'cannot make the file read-only for the CLI').toBe(false);
    const hash = fileHash(tmp.dbPath);

    const cli = await runCli(['sync', '--no-progress'], cliEnv(sim, tmp.dbPath), asUser);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^retab-mirror: .*readonly database.*MIRROR_DB and its folder are writable/m);
    expect(cli.stderr).not.toMatch(STACK_LINE);
    expect(fileHash(tmp.dbPath)).toBe(hash);

    chmodSync(tmp.dbPath, 0o644);
    expect(integrity(tmp.dbPath)).toEqual(['ok']);
    expect((await sync()).outcome).toBe('success');
    expect(truthDiff(sim, tmp.dbPath)).toEqual([]);
  });

  it('a full disk: "database or disk is full", the committed pages intact, a rerun with room converges', async () => {
    const { sim, tmp, sync } = await setup(33);
    expect((await sync()).outcome).toBe('success');
    const committed = new Map(
      query<Record<string, unknown>>(tmp.dbPath, 'SELECT * FROM jobs').map((r) => [r.id as string, r]),
    );
    // Upstream moves on (new jobs, transitions) while the disk has room for a few pages only.
    sim.clock.advance(30 * 60_000);
    const mirror = openMirror(tmp.dbPath);
    const pages = mirror.sqlite.pragma('page_count', { simple: true }) as number;
    mirror.sqlite.pragma(`max_page_count = ${pages + 3}`);
    const full = await sync(mirror, true);
    expect(full.outcome).toBe('failed');
    expect(full.error).toMatch(/database or disk is full \(free disk space where MIRROR_DB lives\)/);
    expect(full.retryable).toBe(false);
    // Recorded as a failure with its cause, never as a success.
    const runs = mirror.sqlite.prepare('SELECT outcome, error FROM sync_runs ORDER BY id DESC LIMIT 1').all();
    expect(runs).toEqual([{ outcome: 'failed', error: expect.stringMatching(/SQLITE_FULL/) }]);
    mirror.close();

    // Nothing torn: every job is either exactly as committed before, or exactly as upstream has it now.
    expect(integrity(tmp.dbPath)).toEqual(['ok']);
    const behind = new Set(truthDiff(sim, tmp.dbPath).map((d) => d.split(/[.:]/)[0] as string));
    const now = new Map(
      query<Record<string, unknown>>(tmp.dbPath, 'SELECT * FROM jobs').map((r) => [r.id as string, r]),
    );
    const torn = [...behind].filter((id) => {
      const row = now.get(id);
      if (!row) return !sim.store.get(id); // missing: fine for a job that arrived after the last commit
      const { last_seen_at: _a, observed_at: _b, ...was } = committed.get(id) ?? {};
      const { last_seen_at: _c, observed_at: _d, ...is } = row;
      return JSON.stringify(was) !== JSON.stringify(is);
    });
    expect(torn).toEqual([]);
    expect(behind.size).toBeGreaterThan(0); // the failed pass really left work undone
    expect(outboxProblems(tmp.dbPath)).toEqual([]);
    const dangling = query(
      tmp.dbPath,
      'SELECT partition FROM sync_state WHERE cursor IS NOT NULL AND cursor NOT IN (SELECT id FROM jobs)',
    );
    expect(dangling).toEqual([]);

    // Room again (a new connection has no page limit): the rerun converges.
    expect((await sync()).outcome).toBe('success');
    expect(truthDiff(sim, tmp.dbPath)).toEqual([]);
    expect(outboxProblems(tmp.dbPath)).toEqual([]);
  });
});
