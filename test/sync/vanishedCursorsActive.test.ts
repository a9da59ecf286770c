/**
 * The other walks survive vanished cursors too: the active sweep's listing of an in-flight status, like
 * head and window, resumes from its last good position when the job its cursor names is deleted upstream
 * between two pages, and the run succeeds. On every store (test/stores.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import { runActive } from '../../src/sync/index.ts';
import { forEachStore } from '../stores.ts';
import { type StoreWorld, storedJobs, storeWorld } from './helpers.ts';

let w: StoreWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

forEachStore((store) =>
  describe('vanished cursors in the active sweep', () => {
    it('a status listing whose cursor job is deleted twice in one run succeeds with every in-flight job', async () => {
      w = await storeWorld(store, { jobs: 50, days: 1, rates: { arrivalsPerMinute: 0 } });
      const sim = w.sim;
      // Many queued jobs: the listing takes several pages.
      for (let i = 0; i < 120; i++) {
        sim.store.create({
          endpoint: '/v1/documents/extract',
          request: { document: { filename: `q${i}.pdf` } },
        });
      }
      const cursors: string[] = [];
      const deleted: string[] = [];
      const f: typeof fetch = (input, init) => {
        const after = new URL(String(input)).searchParams.get('after');
        if (after && !cursors.includes(after)) {
          cursors.push(after);
          if (cursors.length === 2 || cursors.length === 4) {
            sim.store.remove(after);
            deleted.push(after);
          }
        }
        return fetch(input, init);
      };
      const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url, fetch: f });
      const r = await runActive({ ...w.deps, client }, { statuses: ['validating', 'queued'], pageSize: 10 });
      expect(r.outcome).toBe('success');
      expect(deleted).toHaveLength(2);
      const have = new Set((await storedJobs(w.mirror)).map((j) => j.id));
      const inFlight = sim.store
        .all()
        .filter((j) => j.status === 'validating' || j.status === 'queued')
        .map((j) => j.id);
      expect(inFlight.length).toBeGreaterThan(40);
      expect(inFlight.filter((id) => !have.has(id))).toEqual([]);
    });
  }),
);
