import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import { compareListingOrder } from '../../src/retab/jobFields.ts';
import { ENVELOPE_STYLES, type EnvelopeStyle } from '../../src/retab/listEnvelope.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';

// Retab's list envelope changed in May 2026 (retab-dev/retab e66c97c6): `{data, list_metadata: {before,
// after}}` instead of `{object, data, first_id, last_id, has_more}`. The client must page correctly against
// an upstream speaking either one, or both at once. One simulator per style, 10k jobs each, same seed.
const NOW = Date.parse('2026-11-01T12:00:00Z');
const sims = new Map<EnvelopeStyle, Simulator>();
let truthDesc: string[];

beforeAll(async () => {
  for (const envelope of ENVELOPE_STYLES) {
    sims.set(envelope, await startSimulator({ seed: 19, jobs: 10_000, now: NOW, envelope }));
  }
  const all = (sims.get('both') as Simulator).store.all();
  truthDesc = [...all].sort((a, b) => compareListingOrder(a, b, 'desc')).map((j) => j.id);
}, 60_000);
afterAll(async () => {
  for (const sim of sims.values()) await sim.close();
});

async function ids(it: AsyncIterable<Job>): Promise<string[]> {
  const out: string[] = [];
  for await (const job of it) out.push(job.id);
  return out;
}

function clientFor(envelope: EnvelopeStyle) {
  const sim = sims.get(envelope) as Simulator;
  return { sim, client: createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url }) };
}

describe.each(ENVELOPE_STYLES)('an upstream speaking the %s envelope', (envelope) => {
  it('serves exactly the fields of that style', async () => {
    const { sim } = clientFor(envelope);
    const res = await fetch(`${sim.url}/jobs?limit=2`, { headers: { 'Api-Key': sim.apiKey } });
    const keys = Object.keys((await res.json()) as object).sort();
    const expected = {
      both: ['data', 'first_id', 'has_more', 'last_id', 'list_metadata', 'object'],
      legacy: ['data', 'first_id', 'has_more', 'last_id', 'object'],
      current: ['data', 'list_metadata'],
    }[envelope];
    expect(keys).toEqual(expected);
  });

  it('walks 10k jobs forward: every job once, in listing order', async () => {
    const { sim, client } = clientFor(envelope);
    sim.stats.reset();
    const got = await ids(client.iterJobs({ limit: 100 }));
    expect(got).toHaveLength(10_000);
    expect(new Set(got).size).toBe(10_000);
    expect(got).toEqual(truthDesc);
    // No page asked twice, no extra page after the last one.
    expect(sim.stats.count((r) => r.route === 'list')).toBe(100);
  });

  it('walks 10k jobs backward from the end: every job once, the exact reverse', async () => {
    const { sim, client } = clientFor(envelope);
    const last = truthDesc[truthDesc.length - 1] as string;
    sim.stats.reset();
    const got = await ids(client.iterJobs({ limit: 100 }, { startBefore: last }));
    expect(got).toHaveLength(9_999);
    expect(new Set(got).size).toBe(9_999);
    expect(got).toEqual(truthDesc.slice(0, -1).reverse());
    expect(sim.stats.count((r) => r.route === 'list')).toBe(100);
  });
});
