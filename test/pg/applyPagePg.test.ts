/**
 * The PostgreSQL write path gives exactly SQLite's answers: the same simulated pages applied to both stores
 * leave the same rows (jobs, files, metadata, sync state, quarantine) and the same outbox, event for event,
 * and return the same counts page by page.
 */
import { describe, expect, it } from 'vitest';
import { applyPage, type Mirror, markMissing } from '../../src/mirror/index.ts';
import { applyPagePg } from '../../src/mirror/pg/applyPagePg.ts';
import { markMissingPg } from '../../src/mirror/pg/markMissingPg.ts';
import type { PgMirror } from '../../src/mirror/pg/openPgMirror.ts';
import { countJobsPg, getJobRowPg } from '../../src/mirror/pg/readsPg.ts';
import { getSyncStatePg, listSyncStatesPg } from '../../src/mirror/pg/syncStatePg.ts';
import { getJobRow } from '../../src/mirror/reads.ts';
import { getSyncState, listSyncStates } from '../../src/mirror/syncState.ts';
import { makeJob } from '../mirror/factory.ts';
import { scenario } from './scenario.ts';
import { sideBySide } from './sideBySide.ts';

let pgm: PgMirror;
let lite: Mirror;

sideBySide(async (m) => {
  ({ pgm, lite } = m);
});
const JOB_COLS = `seq, id, status, endpoint, source, created_at, started_at, completed_at, expires_at, organization_id,
  project_id, workflow_id, workflow_node_id, model, error_code, error_message, metadata, request, response, error,
  extra, attempt_count, last_failure_code, has_request, has_response, first_seen_at, last_seen_at, observed_at,
  status_changed_at, upstream_missing_at`;

/** SQLite flags are 0/1; PostgreSQL's booleans. */
const norm = (rows: Record<string, unknown>[], flags: string[]) =>
  rows.map((r) => {
    const o = { ...r };
    for (const f of flags) if (typeof o[f] === 'number') o[f] = o[f] === 1;
    return o;
  });

async function both(sql: string, flags: string[] = []) {
  const a = norm(lite.sqlite.prepare(sql).all() as Record<string, unknown>[], flags);
  const b = norm((await pgm.pool.query(sql)).rows, flags);
  return { sqlite: a, pg: b };
}

describe('applyPagePg is applyPage', () => {
  it('the same pages leave the same rows and the same events, with the same counts', async () => {
    const pages = scenario(7, 120, 25);
    for (const [i, p] of pages.entries()) {
      const a = applyPage(lite, p.jobs, p.opts);
      const b = await applyPagePg(pgm.pool, p.jobs, p.opts);
      expect(b, `page ${i}`).toEqual(a);
    }
    // Then some of them disappear upstream (twice: the second time reports nothing).
    const gone = pages[0]?.jobs.slice(0, 10).map((j) => j.id) ?? [];
    for (let k = 0; k < 2; k++) {
      const at = 1_795_000_500_000 + k;
      expect(await markMissingPg(pgm.pool, [...gone, 'job_unknown'], at)).toBe(
        markMissing(lite, [...gone, 'job_unknown'], at),
      );
    }

    const jobs = await both(`SELECT ${JOB_COLS} FROM jobs ORDER BY seq`, ['has_request', 'has_response']);
    expect(jobs.pg.length).toBeGreaterThan(50);
    expect(jobs.pg).toEqual(jobs.sqlite);
    const files = await both(
      'SELECT job_seq, job_id, position, filename, document_type FROM job_files ORDER BY job_seq, position',
    );
    expect(files.pg.length).toBeGreaterThan(50);
    expect(files.pg).toEqual(files.sqlite);
    const meta = await both(
      'SELECT job_seq, job_id, key, value FROM job_metadata ORDER BY job_seq, key, value',
    );
    expect(meta.pg.length).toBeGreaterThan(50);
    expect(meta.pg).toEqual(meta.sqlite);
    const events = await both(
      `SELECT seq, event_id, type, job_id, from_status, to_status, occurred_at, observed_at, inferred, backfill, payload
       FROM job_events ORDER BY seq`,
      ['inferred', 'backfill'],
    );
    expect(events.pg.map((e) => e.type)).toEqual(
      expect.arrayContaining(['job.discovered', 'job.status_changed', 'job.missing_upstream']),
    );
    expect(events.pg.some((e) => e.inferred)).toBe(true);
    expect(events.pg).toEqual(events.sqlite);
    const q = await both(
      'SELECT id, job_id, partition, reason, issues, raw, observed_at FROM quarantine ORDER BY id',
    );
    expect(q.pg.length).toBeGreaterThan(0);
    expect(q.pg).toEqual(q.sqlite);
    const strip = ({ updatedAt: _u, lastRunAt: _l, ...rest }: Record<string, unknown>) => rest;
    expect((await listSyncStatesPg(pgm.db)).map(strip)).toEqual(listSyncStates(lite).map(strip));
    expect(strip((await getSyncStatePg(pgm.db, 'window:1')) ?? {})).toEqual(
      strip(getSyncState(lite, 'window:1') ?? {}),
    );
    expect(await countJobsPg(pgm.pool)).toBe(jobs.sqlite.length);
    const id = jobs.sqlite[3]?.id as string;
    expect(await getJobRowPg(pgm.pool, id)).toEqual(getJobRow(lite, id));
  });

  it('re-applying a page changes nothing and adds no event', async () => {
    const [p] = scenario(8, 1, 30);
    if (!p) throw new Error('no page');
    // Each job once, in its last state (a page listing a job twice may list two states of it).
    const jobs = [...new Map(p.jobs.map((j) => [j.id, j])).values()];
    await applyPagePg(pgm.pool, jobs, p.opts);
    const before = (await pgm.pool.query('SELECT count(*)::int AS n FROM job_events')).rows[0].n;
    const again = await applyPagePg(pgm.pool, jobs, p.opts);
    expect(again.inserted).toBe(0);
    expect(again.events).toBe(0);
    expect((await pgm.pool.query('SELECT count(*)::int AS n FROM job_events')).rows[0].n).toBe(before);
  });

  it('a failing page writes nothing (one transaction: rows, events, checkpoint)', async () => {
    const [p] = scenario(9, 1, 10);
    if (!p) throw new Error('no page');
    const n = await countJobsPg(pgm.pool);
    const events = (await pgm.pool.query('SELECT count(*)::int AS n FROM job_events')).rows[0].n;
    // The checkpoint comes after the rows: its error must undo them.
    await expect(applyPagePg(pgm.pool, p.jobs, { ...p.opts, checkpoint: { partition: '' } })).rejects.toThrow(
      /partition is required/,
    );
    expect(await countJobsPg(pgm.pool)).toBe(n);
    expect((await pgm.pool.query('SELECT count(*)::int AS n FROM job_events')).rows[0].n).toBe(events);
  });

  it('a NUL character upstream does not block the page (stored as U+FFFD; PostgreSQL text cannot hold it)', async () => {
    const job = makeJob({
      organization_id: 'org\u0000x',
      metadata: { 'k\u0000': 'v\u0000' },
      request: { document: { filename: 'a\u0000b.pdf', url: 'https://files.example/x' } },
      error: { code: 'E\u0000', message: 'm\u0000' },
    });
    const r = await applyPagePg(pgm.pool, [job], {
      observedAt: 1_795_000_000_000,
      checkpoint: { partition: 'nul', cursor: job.id, lastError: 'x\u0000' },
      rejected: [{ index: 1, id: 'job_\u0000', raw: 'r\u0000', reason: 'bad\u0000', issues: [] }],
    });
    expect(r).toMatchObject({ inserted: 1, events: 1, quarantined: 1 });
    const row = await getJobRowPg(pgm.pool, job.id);
    expect(row?.organizationId).toBe('org\uFFFDx');
    expect(row?.errorCode).toBe('E\uFFFD');
    // JSON columns keep the escape: the job reads back exactly.
    expect(JSON.parse(row?.metadata ?? 'null')).toEqual({ 'k\u0000': 'v\u0000' });
    const files = await pgm.pool.query('SELECT filename FROM job_files WHERE job_id = $1', [job.id]);
    expect(files.rows).toEqual([{ filename: 'a\uFFFDb.pdf' }]);
    const meta = await pgm.pool.query('SELECT key, value FROM job_metadata WHERE job_id = $1', [job.id]);
    expect(meta.rows).toEqual([{ key: 'k\uFFFD', value: 'v\uFFFD' }]);
    // A later change of that metadata removes the stored pair it replaces.
    await applyPagePg(pgm.pool, [{ ...job, metadata: { k: 'v' } }], { observedAt: 1_795_000_001_000 });
    const after = await pgm.pool.query('SELECT key, value FROM job_metadata WHERE job_id = $1', [job.id]);
    expect(after.rows).toEqual([{ key: 'k', value: 'v' }]);
  });
});
