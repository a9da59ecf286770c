/**
 * The PostgreSQL read helpers (sync reads, outbox reads, sink cursors, the run log) answer as SQLite's on the
 * same mirror contents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyPage,
  countByStatus,
  finishRun,
  jobsMissingPayload,
  knownIds,
  lastSuccessfulRun,
  latestCreatedAt,
  listRuns,
  type Mirror,
  staleActiveJobs,
  startRun,
} from '../../src/mirror/index.ts';
import { applyPagePg } from '../../src/mirror/pg/applyPagePg.ts';
import {
  advanceCursorPg,
  disableSinkPg,
  enableSinkPg,
  listCursorsPg,
  readCursorPg,
  replayFromPg,
  setCursorPg,
} from '../../src/mirror/pg/cursorsPg.ts';
import {
  listDeadLettersPg,
  markDeadLetterResolvedPg,
  recordDeadLetterPg,
} from '../../src/mirror/pg/deadLettersPg.ts';
import { openPgMirror, type PgMirror } from '../../src/mirror/pg/openPgMirror.ts';
import {
  maxSeqPg,
  readEventByIdPg,
  readEventsAfterPg,
  readLastEventsPg,
  readMatchingAfterPg,
} from '../../src/mirror/pg/outboxPg.ts';
import {
  countByStatusPg,
  jobsMissingPayloadPg,
  knownIdsPg,
  latestCreatedAtPg,
  staleActiveJobsPg,
} from '../../src/mirror/pg/readsPg.ts';
import { finishRunPg, lastSuccessfulRunPg, listRunsPg, startRunPg } from '../../src/mirror/pg/runsPg.ts';
import {
  advanceCursor,
  disableSink,
  enableSink,
  listCursors,
  readCursor,
  replayFrom,
  setCursor,
} from '../../src/mirror/sqlite/cursors.ts';
import {
  listDeadLetters,
  markDeadLetterResolved,
  recordDeadLetter,
} from '../../src/mirror/sqlite/deadLetters.ts';
import { maxSeq, readEventsAfter, readLastEvents } from '../../src/mirror/sqlite/outbox.ts';
import { type TempMirror, tempMirror } from '../mirror/factory.ts';
import { createTestDatabase, type TestDatabase } from './pgDatabase.ts';
import { scenario } from './scenario.ts';

let db: TestDatabase;
let pgm: PgMirror;
let t: TempMirror;
let lite: Mirror;
const pages = scenario(11, 60, 20);

beforeAll(async () => {
  db = await createTestDatabase({ icuLocale: 'en-US' });
  pgm = await openPgMirror(db.url);
  t = tempMirror();
  lite = t.mirror;
  for (const p of pages) {
    applyPage(lite, p.jobs, p.opts);
    await applyPagePg(pgm.pool, p.jobs, p.opts);
  }
});
afterAll(async () => {
  await pgm?.close();
  await db?.drop();
  t?.cleanup();
});

describe('PostgreSQL reads answer as SQLite', () => {
  it('sync reads', async () => {
    const p = pgm.pool;
    expect(await latestCreatedAtPg(p)).toBe(latestCreatedAt(lite));
    const ids = [...(pages[0]?.jobs.map((j) => j.id) ?? []), 'job_nope'];
    expect([...(await knownIdsPg(p, ids))].sort()).toEqual([...knownIds(lite, ids)].sort());
    for (const notSeenSince of [1_795_000_010_000, 1_795_000_040_000, 1_795_000_070_000]) {
      const lt = staleActiveJobs(lite, { notSeenSince });
      expect(await staleActiveJobsPg(p, { notSeenSince })).toEqual(lt);
    }
    expect(staleActiveJobs(lite, { notSeenSince: 1_795_000_070_000 }).length).toBeGreaterThan(10);
    for (const kind of ['request', 'response'] as const)
      expect(await jobsMissingPayloadPg(p, { kind, limit: 500 })).toEqual(
        jobsMissingPayload(lite, { kind, limit: 500 }),
      );
    expect(await countByStatusPg(p)).toEqual(countByStatus(lite));
  });

  it('outbox reads', async () => {
    const p = pgm.pool;
    expect(await maxSeqPg(p)).toBe(maxSeq(lite));
    expect(await readEventsAfterPg(p, 17, 50)).toEqual(readEventsAfter(lite, 17, 50));
    const q = { types: ['job.status_changed'], toStatuses: ['failed', 'completed'], upToSeq: 200 };
    expect(await readLastEventsPg(p, 15, q)).toEqual(readLastEvents(lite, 15, q));
    expect(await readMatchingAfterPg(p, 30, 25, q)).toEqual(readEventsAfter(lite, 30, 25, q));
    const one = readEventsAfter(lite, 40, 1)[0];
    expect(one).toBeDefined();
    expect(await readEventByIdPg(p, one?.eventId ?? '')).toEqual(one);
    expect(await readEventByIdPg(p, 'evt_none')).toBeUndefined();
  });

  it('sink cursors', async () => {
    const p = pgm.pool;
    const stripTimes = <T extends { updatedAt: number; disabledAt: number | null }>(c: T | undefined) =>
      c && { ...c, updatedAt: 0, disabledAt: c.disabledAt === null ? null : 0 };
    setCursor(lite, 'webhook:b', 5);
    await setCursorPg(p, 'webhook:b', 5);
    setCursor(lite, 'log', 1);
    await setCursorPg(p, 'log', 1);
    expect(await advanceCursorPg(p, 'log', 1, 9)).toBe(advanceCursor(lite, 'log', 1, 9));
    expect(await advanceCursorPg(p, 'log', 1, 12)).toBe(advanceCursor(lite, 'log', 1, 12));
    expect(await replayFromPg(p, 'log', 3)).toBe(replayFrom(lite, 'log', 3));
    await expect(replayFromPg(p, 'log', 1e9)).rejects.toThrow(/past the end of the outbox/);
    expect(await disableSinkPg(p, 'webhook:b', 'gone')).toBe(disableSink(lite, 'webhook:b', 'gone'));
    expect(await disableSinkPg(p, 'webhook:b', 'gone')).toBe(disableSink(lite, 'webhook:b', 'gone'));
    expect(stripTimes(await readCursorPg(p, 'webhook:b'))).toEqual(stripTimes(readCursor(lite, 'webhook:b')));
    expect(await enableSinkPg(p, 'webhook:b')).toBe(enableSink(lite, 'webhook:b'));
    expect((await listCursorsPg(p)).map(stripTimes)).toEqual(listCursors(lite).map(stripTimes));
  });

  it('dead letters', async () => {
    const p = pgm.pool;
    const strip = (rows: Array<{ failedAt: number; resolvedAt: number | null }>) =>
      rows.map((r) => ({ ...r, failedAt: 0, resolvedAt: r.resolvedAt === null ? null : 0 }));
    for (const d of [
      { sink: 'webhook:a', seq: 3, eventId: 'evt_1', attempts: 5, lastError: 'HTTP 500' },
      { sink: 'webhook:a', seq: 4, eventId: 'evt_2', attempts: 5, lastError: 'timeout' },
      { sink: 'webhook:a', seq: 3, eventId: 'evt_1', attempts: 7, lastError: 'HTTP 502' },
    ]) {
      recordDeadLetter(lite, d);
      await recordDeadLetterPg(p, d);
    }
    markDeadLetterResolved(lite, 2, 6);
    await markDeadLetterResolvedPg(p, 2, 6);
    expect(strip(await listDeadLettersPg(p))).toEqual(strip(listDeadLetters(lite)));
    expect(strip(await listDeadLettersPg(p, { includeResolved: true, ids: [2] }))).toEqual(
      strip(listDeadLetters(lite, { includeResolved: true, ids: [2] })),
    );
  });

  it('the run log', async () => {
    const runs = [
      { task: 'window', partition: 'window:2026-11-01', startedAt: 1000 },
      { task: 'window', partition: 'window:2026-11-01', startedAt: 2000 },
      { task: 'head', partition: 'head', startedAt: 3000 },
    ];
    const totals = {
      requests: 3,
      pages: 2,
      jobs: 40,
      inserted: 10,
      updated: 5,
      events: 12,
      missing: 0,
      quarantined: 1,
    };
    for (const run of runs) {
      const a = startRun(lite, run);
      const b = await startRunPg(pgm, run);
      expect(b).toBe(a);
      if (run.task === 'head')
        for (const fin of [
          (id: number) =>
            finishRun(lite, id, {
              ...totals,
              outcome: 'success',
              finishedAt: 3500,
              upstreamStatuses: { '200': 3 },
            }),
          (id: number) =>
            finishRunPg(pgm, id, {
              ...totals,
              outcome: 'success',
              finishedAt: 3500,
              upstreamStatuses: { '200': 3 },
            }),
        ])
          await fin(a);
    }
    expect(await listRunsPg(pgm)).toEqual(listRuns(lite));
    expect(await listRunsPg(pgm, { partition: 'window:2026-11-01', limit: 1 })).toEqual(
      listRuns(lite, { partition: 'window:2026-11-01', limit: 1 }),
    );
    expect(await lastSuccessfulRunPg(pgm, 'head')).toEqual(lastSuccessfulRun(lite, 'head'));
    expect(await lastSuccessfulRunPg(pgm, 'window:')).toEqual(lastSuccessfulRun(lite, 'window:'));
    await expect(finishRunPg(pgm, 999, { ...totals, outcome: 'failed', finishedAt: 1 })).rejects.toThrow(
      /no run with id 999/,
    );
  });
});
