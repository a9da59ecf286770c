/** `statsJobsPg` gives SQLite's `statsJobs` result on the same mirror contents, for every grouping and filter. */
import { describe, expect, it } from 'vitest';
import { applyPage, type Mirror } from '../../src/mirror/index.ts';
import { applyPagePg } from '../../src/mirror/pg/applyPagePg.ts';
import type { PgMirror } from '../../src/mirror/pg/openPgMirror.ts';
import { statsJobsPg } from '../../src/mirror/pg/statsJobsPg.ts';
import { STATS_GROUP_BY } from '../../src/mirror/statsGroupBy.ts';
import { statsJobs } from '../../src/mirror/statsJobs.ts';
import { utcDay } from '../../src/retab/jobFields.ts';
import { BASE_CREATED } from '../mirror/factory.ts';
import { scenario } from './scenario.ts';
import { sideBySide } from './sideBySide.ts';

let pgm: PgMirror;
let lite: Mirror;

sideBySide(async (m) => {
  ({ pgm, lite } = m);
  for (const seed of [31, 32]) {
    // Jobs spread over several days, so `day` groups and throughput have more than one row.
    for (const p of scenario(seed, 40, 25, 100)) {
      const jobs = p.jobs.map((j) => {
        const shift = (Number.parseInt(j.id.slice(-3), 36) % 4) * 86_400;
        const at = (v: number | null | undefined) => (v == null ? v : v + shift);
        return {
          ...j,
          created_at: j.created_at + shift,
          started_at: at(j.started_at),
          completed_at: at(j.completed_at),
          expires_at: j.expires_at + shift,
        };
      });
      applyPage(lite, jobs, p.opts);
      await applyPagePg(pgm.pool, jobs, p.opts);
    }
  }
});
describe('statsJobsPg answers as statsJobs', () => {
  it('every grouping, with and without filters', async () => {
    const day = utcDay(BASE_CREATED);
    const filterSets = [
      {},
      { status: 'completed' },
      { metadata: { customer: 'acme' } },
      { filename_contains: 'pdf' },
      { filename_regex: '.*_k.*', document_type: ['pdf'] },
      { filename_regex: 'no-such-name' },
    ];
    for (const groupBy of STATS_GROUP_BY) {
      for (const filters of filterSets) {
        const want = statsJobs(lite, { groupBy, filters });
        expect(
          await statsJobsPg(pgm.pool, { groupBy, filters }),
          `${groupBy} ${JSON.stringify(filters)}`,
        ).toEqual(want);
      }
    }
    const ranged = { groupBy: 'day' as const, from: day, to: utcDay(BASE_CREATED + 2 * 86_400) };
    const want = statsJobs(lite, ranged);
    expect(want.rows.length).toBeGreaterThan(1);
    expect(want.throughput.length).toBeGreaterThan(1);
    expect(await statsJobsPg(pgm.pool, ranged)).toEqual(want);
    expect(want.totals.durationP95).not.toBeNull();
    expect(want.totals.queueWaitP50).not.toBeNull();
  });
});
