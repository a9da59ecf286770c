/** The console's in-memory columns and the overview computed from them, on a real mirror of each store. */
import { describe, expect, it } from 'vitest';
import { JobColumns } from '../../src/console/jobColumns.ts';
import { computeOverview } from '../../src/console/overview.ts';
import { loadStore, makeJob } from '../query/helpers.ts';
import { sqlRun } from '../storeSql.ts';
import { forEachStore, type StoreUnderTest } from '../stores.ts';

/** A fresh mirror (the writer) and a read-only connection to it (as the server holds it). */
async function mirrorPair(store: StoreUnderTest) {
  const location = await store.location();
  const mirror = await store.reopen(location);
  const reader = await store.reopen(location, { readonly: true });
  return { mirror, reader };
}

const T0 = Date.parse('2026-10-20T00:00:00Z') / 1000;
const RANGE = { from: T0 - 86_400, to: T0 + 5 * 86_400 };

forEachStore((store) => {
  describe('JobColumns', () => {
    it('percentiles per bucket are within 2 % of the nearest-rank value', async () => {
      const t = await mirrorPair(store);
      // Run times 1 s … 2000 s, all created in one hour.
      const jobs = Array.from({ length: 2000 }, (_, i) =>
        makeJob({
          created_at: T0 + i,
          started_at: T0 + i + (i % 7),
          completed_at: T0 + i + (i % 7) + (i + 1),
        }),
      );
      await loadStore(t.mirror, jobs);
      const cols = new JobColumns(t.reader);
      await cols.ready;
      const o = computeOverview(cols, { from: T0, to: T0 + 3600 });
      const durations = jobs
        .map((j) => (j.completed_at as number) - (j.started_at as number))
        .sort((a, b) => a - b);
      const rank = (p: number) => durations[Math.ceil(p * durations.length) - 1] as number;
      const point = o.duration[0];
      expect(Math.abs((point?.p50 as number) - rank(0.5)) / rank(0.5)).toBeLessThanOrEqual(0.02);
      expect(Math.abs((point?.p95 as number) - rank(0.95)) / rank(0.95)).toBeLessThanOrEqual(0.02);
      expect(o.queueWait[0]).toEqual({ p50: 3, p95: 6 }); // exact below 120 s
    });

    it('a change no event announces (a model learned by hydration) is picked up by the background re-scan', async () => {
      const t = await mirrorPair(store);
      await loadStore(t.mirror, [makeJob({ created_at: T0 + 10 }), makeJob({ created_at: T0 + 20 })]);
      const cols = new JobColumns(t.reader, { rescanMs: 0, chunk: 1 });
      await cols.ready;
      expect(computeOverview(cols, { ...RANGE, model: 'gpt-5' }).total).toBe(0);
      await sqlRun(t.mirror, "UPDATE jobs SET model = 'gpt-5' WHERE created_at = ?", [T0 + 20]);
      cols.refresh(); // starts the re-scan
      await new Promise((r) => setTimeout(r, 50));
      expect(computeOverview(cols, { ...RANGE, model: 'gpt-5' }).total).toBe(1);
    });
  });
});
