/**
 * Several writers on one PostgreSQL mirror: pages sharing jobs, in different orders, interleaved, some
 * observations late. No deadlock, no regression (the newest state wins), no lost or duplicated event; and the
 * outbox never lets a reader taking "after seq N" skip an event whose transaction commits late.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPagePg } from '../../src/mirror/pg/applyPagePg.ts';
import { openPgMirror, type PgMirror } from '../../src/mirror/pg/openPgMirror.ts';
import type { Job, JobStatus } from '../../src/retab/schemas.ts';
import { BASE_CREATED, makeJob } from '../mirror/factory.ts';
import { createTestDatabase, type TestDatabase } from './pgDatabase.ts';
import { rng } from './scenario.ts';

let db: TestDatabase;
let a: PgMirror;
let b: PgMirror;
beforeAll(async () => {
  db = await createTestDatabase();
  [a, b] = await Promise.all([openPgMirror(db.url, { poolSize: 4 }), openPgMirror(db.url, { poolSize: 4 })]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await db?.drop();
});

/** Upstream's history of one job: the snapshots it goes through, a retry included. */
function history(id: string, i: number): Job[] {
  const created = BASE_CREATED + i;
  const at = (status: JobStatus, over: Partial<Job> = {}) =>
    makeJob({ id, created_at: created, status, attempt_count: 1, metadata: { n: String(i) }, ...over });
  return [
    at('validating'),
    at('queued'),
    at('in_progress', { started_at: created + 10 }),
    at('failed', {
      started_at: created + 10,
      completed_at: created + 20,
      error: { code: 'E', message: 'x' },
    }),
    at('queued', { attempt_count: 2, last_failure_code: 'E' }),
    at('in_progress', { attempt_count: 2, started_at: created + 30, last_failure_code: 'E' }),
    at('completed', {
      attempt_count: 2,
      started_at: created + 30,
      completed_at: created + 40,
      last_failure_code: 'E',
    }),
  ];
}

describe('two writers on the same jobs', () => {
  it('race without deadlock, regression, lost or duplicated events', async () => {
    const N = 60;
    const ids = Array.from({ length: N }, (_, i) => `job_race_${i.toString().padStart(3, '0')}`);
    const histories = ids.map((id, i) => history(id, i));
    const STEPS = 7;
    const T0 = 1_795_100_000_000;
    const writer = async (m: PgMirror, seed: number, offset: number) => {
      const r = rng(seed);
      for (let step = 0; step < STEPS; step++) {
        // Each writer lists every shared job in its own shuffled order; now and then one of its pages is late
        // (an observation of the previous step, dated when it was taken).
        const late = step > 0 && r() < 0.3;
        const seen = late ? step - 1 : step;
        const page = ids.map((_, i) => histories[i]?.[Math.min(seen, STEPS - 1)] as Job);
        for (let k = page.length - 1; k > 0; k--) {
          const j = Math.floor(r() * (k + 1));
          [page[k], page[j]] = [page[j] as Job, page[k] as Job];
        }
        for (let s = 0; s < page.length; s += 20) {
          await applyPagePg(m.pool, page.slice(s, s + 20), {
            observedAt: T0 + seen * 1000 + offset,
            checkpoint: { partition: `w${seed}`, pagesDelta: 1 },
          });
        }
      }
    };
    await Promise.all([writer(a, 1, 0), writer(b, 2, 1), writer(a, 3, 2), writer(b, 4, 3)]);

    // No regression: every job holds upstream's last state.
    const rows = (await a.pool.query('SELECT id, status, attempt_count FROM jobs ORDER BY id')).rows;
    expect(rows).toEqual(ids.map((id) => ({ id, status: 'completed', attempt_count: 2 })));
    // Every job's events chain from its discovery to its last state: nothing lost, nothing twice.
    const events = (
      await a.pool.query('SELECT job_id, type, from_status, to_status FROM job_events ORDER BY seq')
    ).rows as Array<{ job_id: string; type: string; from_status: string | null; to_status: string }>;
    for (const id of ids) {
      const mine = events.filter((e) => e.job_id === id);
      expect(mine[0]?.type, id).toBe('job.discovered');
      for (let k = 1; k < mine.length; k++)
        expect(mine[k]?.from_status, `${id} #${k}`).toBe(mine[k - 1]?.to_status);
      expect(mine[mine.length - 1]?.to_status, id).toBe('completed');
      // The full lifecycle, whatever was observed directly or inferred: validating is discovered, then six steps.
      expect(mine.length, id).toBe(7);
    }
    const pages = (await a.pool.query('SELECT partition, pages FROM sync_state ORDER BY partition')).rows;
    expect(pages).toEqual(['w1', 'w2', 'w3', 'w4'].map((partition) => ({ partition, pages: STEPS * 3 })));
  });
});

describe('the outbox under late commits', () => {
  it('a reader taking "after seq N" never skips an event whose writer commits late', async () => {
    // A deferred trigger makes the commit of any page holding a `job_slow` event wait 300 ms after its seqs
    // were drawn: the classic outbox race, on demand.
    await a.pool.query(`CREATE OR REPLACE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$`);
    await a.pool.query(`CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON job_events
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.job_id LIKE 'job_slow%') EXECUTE FUNCTION slow_commit()`);
    try {
      const start = (await a.pool.query('SELECT coalesce(max(seq), 0)::bigint AS s FROM job_events')).rows[0]
        .s as number;
      const seen: number[] = [];
      let cursor = start;
      let done = false;
      const read = async () => {
        const r = await b.pool.query('SELECT seq FROM job_events WHERE seq > $1 ORDER BY seq', [cursor]);
        for (const row of r.rows as Array<{ seq: number }>) {
          seen.push(row.seq);
          cursor = row.seq;
        }
      };
      const reader = (async () => {
        while (!done) {
          await read();
          await new Promise((res) => setTimeout(res, 5));
        }
      })();
      const T = 1_795_200_000_000;
      for (let round = 0; round < 4; round++) {
        const slow = makeJob({ id: `job_slow_${round}`, created_at: BASE_CREATED + round });
        const fast = Array.from({ length: 5 }, (_, k) => makeJob({ id: `job_fast_${round}_${k}` }));
        // The slow page draws its seqs first, then waits to commit; the fast one starts meanwhile.
        const slowPage = applyPagePg(a.pool, [slow], { observedAt: T + round });
        await new Promise((res) => setTimeout(res, 60));
        const fastPage = applyPagePg(b.pool, fast, { observedAt: T + round });
        await Promise.all([slowPage, fastPage]);
      }
      done = true;
      await reader;
      await read();
      const all = (
        await a.pool.query('SELECT seq FROM job_events WHERE seq > $1 ORDER BY seq', [start])
      ).rows.map((r: { seq: number }) => r.seq);
      expect(all).toHaveLength(4 * 6);
      // Everything committed was read, once, in seq order.
      expect(seen).toEqual(all);
    } finally {
      await a.pool.query('DROP TRIGGER slow_commit ON job_events');
    }
  });
});
