import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import type { RetabClient } from '../../src/retab/clientTypes.ts';
import { compareListingOrder } from '../../src/retab/jobFields.ts';
import type { Job, ListJobsParams } from '../../src/retab/schemas.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';

// 10k jobs walked over real loopback HTTP. Page sizes are chosen so that the whole file stays well
// under ten seconds (a page costs ~2–3 ms here); 17 and 37 make the last page a partial one.
let sim: Simulator;
let client: RetabClient;
// Ground truth, read once: materialising 10k full jobs is the slowest step of this file. The clock is
// manual and never advanced, so the data stays as it was.
let all: Job[];

beforeAll(async () => {
  sim = await startSimulator({ seed: 4, jobs: 10_000, now: Date.parse('2026-11-01T12:00:00Z') });
  client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url });
  all = sim.store.all();
});
afterAll(() => sim.close());

function truth(order: 'asc' | 'desc'): string[] {
  return [...all].sort((a, b) => compareListingOrder(a, b, order)).map((j) => j.id);
}

async function ids(it: AsyncIterable<Job>): Promise<string[]> {
  const out: string[] = [];
  for await (const job of it) out.push(job.id);
  return out;
}

describe('walking 10k jobs', () => {
  it.each([
    ['desc', 100],
    ['desc', 20],
    ['asc', 17],
  ] as const)(
    'forward (after=last_id) in %s order, %i per page: every job once, in order',
    async (order, limit) => {
      sim.stats.reset();
      const params: ListJobsParams = { limit, order };
      const got = await ids(client.iterJobs(params));
      const expected = truth(order);
      expect(got).toHaveLength(10_000);
      expect(new Set(got).size).toBe(10_000);
      expect(got).toEqual(expected);
      expect(sim.stats.count((r) => r.route === 'list')).toBe(Math.ceil(10_000 / limit));
      // The cursor sent is always the previous page's last job.
      const cursors = sim.stats.requests.map((r) => r.query.after);
      expect(cursors[0]).toBeUndefined();
      expect(cursors[1]).toBe(expected[limit - 1]);
    },
  );

  it.each([
    ['desc', 100],
    ['asc', 37],
  ] as const)(
    'backward (before=first_id) in %s order, %i per page: the exact reverse',
    async (order, limit) => {
      const expected = truth(order);
      const last = expected[expected.length - 1] as string;
      const got = await ids(client.iterJobs({ limit, order }, { startBefore: last }));
      expect(got).toEqual(expected.slice(0, -1).reverse());
    },
  );

  it('backward pages come last-walked first, each in listing order', async () => {
    const expected = truth('desc');
    const last = expected[expected.length - 1] as string;
    const pages: string[][] = [];
    for await (const page of client.iterPages({ limit: 100 }, { startBefore: last })) {
      pages.push(page.data.map((j) => j.id));
    }
    expect(pages.reverse().flat()).toEqual(expected.slice(0, -1));
  });

  it('resumes after a stored cursor and yields only what follows it', async () => {
    const expected = truth('desc');
    const stored = expected[4_321] as string;
    const got = await ids(client.iterJobs({ limit: 100 }, { startAfter: stored }));
    expect(got).toEqual(expected.slice(4_322));
  });

  it('walks a filtered listing to its end', async () => {
    const expected = [...all]
      .filter((j) => j.status === 'completed')
      .sort((a, b) => compareListingOrder(a, b, 'desc'))
      .map((j) => j.id);
    expect(expected.length).toBeGreaterThan(100);
    expect(await ids(client.iterJobs({ limit: 100, status: 'completed' }))).toEqual(expected);
  });
});
