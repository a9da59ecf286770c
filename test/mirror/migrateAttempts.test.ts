/**
 * Upgrading a mirror written before `attempt_count` and `last_failure_code` (0003), then `last_attempt_at`
 * (0006), had columns: a mirror that already received them from upstream kept them in `extra` (unknown
 * fields). The migrations move them into their columns, so nothing is lost, nothing is stored twice, and the
 * merge rule sees them. SQLite only (issue #21): SQLite files written by earlier builds; PostgreSQL mirrors
 * began with these columns.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { applyPage, getJobRow, MIGRATIONS_FOLDER, openMirror, rowToJob } from '../../src/mirror/index.ts';
import type { Job } from '../../src/retab/schemas.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'retab-mirror-attempts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A file at the schema of the first `applied` migrations (as the builds of that time left it). */
function writeFileAt(path: string, applied: number): Database.Database {
  const db = new Database(path);
  db.exec(
    'CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)',
  );
  for (const m of readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).slice(0, applied)) {
    for (const stmt of m.sql) if (stmt.trim() !== '') db.exec(stmt);
    db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(
      m.hash,
      m.folderMillis,
    );
  }
  return db;
}

it('moves attempt_count and last_failure_code out of extra into their columns, keeping the rest', () => {
  const path = join(dir, 'mirror.db');
  const db = writeFileAt(path, 2);
  const insert = db.prepare(`INSERT INTO jobs (id, status, endpoint, source, created_at, expires_at,
    organization_id, extra, first_seen_at, last_seen_at, observed_at)
    VALUES (?, 'failed', '/v1/extractions', 'api', 1790000000, 1790604800, 'org_old', ?, 1, 1, 1)`);
  insert.run(
    'job_moved',
    JSON.stringify({
      attempt_count: 3,
      last_failure_code: 'timeout',
      warnings: [{ code: 'w', message: 'm' }],
    }),
  );
  insert.run('job_only', JSON.stringify({ attempt_count: 2, last_failure_code: null }));
  insert.run('job_odd', JSON.stringify({ attempt_count: 'three' }));
  insert.run('job_none', null);
  db.close();

  const mirror = openMirror(path);
  try {
    const moved = getJobRow(mirror, 'job_moved');
    expect(moved).toMatchObject({ attemptCount: 3, lastFailureCode: 'timeout' });
    expect(JSON.parse(moved?.extra as string)).toEqual({ warnings: [{ code: 'w', message: 'm' }] });
    expect(rowToJob(moved!)).toMatchObject({
      attempt_count: 3,
      last_failure_code: 'timeout',
      warnings: [{ code: 'w' }],
    });
    // A null code is not a text value: it stays in extra, which rowToJob reads the same way.
    expect(getJobRow(mirror, 'job_only')).toMatchObject({ attemptCount: 2, lastFailureCode: null });
    // A value of the wrong type is kept where it was, not coerced into the column.
    expect(getJobRow(mirror, 'job_odd')).toMatchObject({
      attemptCount: null,
      extra: '{"attempt_count":"three"}',
    });
    expect(getJobRow(mirror, 'job_none')).toMatchObject({
      attemptCount: null,
      lastFailureCode: null,
      extra: null,
    });
  } finally {
    mirror.close();
  }
});

it('moves last_attempt_at out of extra into its column (0006), and the merge compares it there', () => {
  const path = join(dir, 'mirror.db');
  const db = writeFileAt(path, 6);
  const insert = db.prepare(`INSERT INTO jobs (id, status, endpoint, source, created_at, started_at,
    expires_at, organization_id, extra, first_seen_at, last_seen_at, observed_at)
    VALUES (?, 'in_progress', '/v1/extractions', 'api', 1790000000, 1790000100, 1790604800, 'org_old', ?, 1, 1, 1)`);
  insert.run(
    'job_moved',
    JSON.stringify({ last_attempt_at: 1790000100, warnings: [{ code: 'w', message: 'm' }] }),
  );
  insert.run('job_only', JSON.stringify({ last_attempt_at: 1790000100 }));
  insert.run('job_odd', JSON.stringify({ last_attempt_at: 'soon' }));
  db.close();

  const mirror = openMirror(path);
  try {
    const moved = getJobRow(mirror, 'job_moved');
    expect(moved).toMatchObject({ lastAttemptAt: 1790000100 });
    expect(JSON.parse(moved?.extra as string)).toEqual({ warnings: [{ code: 'w', message: 'm' }] });
    expect(rowToJob(moved!)).toMatchObject({ last_attempt_at: 1790000100, warnings: [{ code: 'w' }] });
    expect(getJobRow(mirror, 'job_only')).toMatchObject({ lastAttemptAt: 1790000100, extra: null });
    expect(getJobRow(mirror, 'job_odd')).toMatchObject({
      lastAttemptAt: null,
      extra: '{"last_attempt_at":"soon"}',
    });

    // The moved counter still decides: a late page of the earlier attempt (no attempt_count) is stale.
    const late = {
      ...rowToJob(getJobRow(mirror, 'job_only')!),
      status: 'queued',
      started_at: null,
      attempt_count: null,
      last_attempt_at: 1790000050,
    } as Job;
    expect(applyPage(mirror, [late], { observedAt: 10 }).updated).toBe(0);
    expect(getJobRow(mirror, 'job_only')).toMatchObject({ status: 'in_progress', lastAttemptAt: 1790000100 });
  } finally {
    mirror.close();
  }
});
