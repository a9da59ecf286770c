/**
 * Steady-state cost of one poll cycle (head + active), in upstream requests, at two mirror sizes, against
 * a naive full re-list of the same account. Counted by the simulator (every request it received), so the
 * figures do not depend on the machine.
 *
 * Per size: a simulator with N jobs over 14 days, the mirror built and brought to steady state (live traffic
 * for a while), then three cycles:
 * - live: ~1 simulated minute of traffic (arrivals at 12/min, each through validating → queued →
 *   in_progress → done: about 50 status changes), the everyday case;
 * - k = 50 scattered: 20 new jobs, 15 cancellations of long-running or stuck jobs, 15 retries of old failed
 *   jobs: the changes head cannot see, each cancelled job resolved on its own;
 * - quiet: nothing changed.
 *
 *   npx tsx bench/steadyState.ts [--sizes 10000,100000] [--quick]    (--quick: 2000,20000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../src/log.ts';
import { openMirror } from '../src/mirror/openMirror.ts';
import { createRetabClient } from '../src/retab/client.ts';
import { startSimulator } from '../src/simulator/index.ts';
import { backfillDays, runActive, runHead, runWindow, type SyncDeps } from '../src/sync/index.ts';

const { values } = parseArgs({
  options: { sizes: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const sizes = (values.sizes ?? (values.quick ? '2000,20000' : '10000,100000')).split(',').map(Number);
const NOW = Date.parse('2026-11-15T12:00:00Z');
const HEAD = { pageSize: 100, payloadMode: 'none' as const, overlapSeconds: 300, backfillDays: 30 };
const ACTIVE = {
  statuses: ['validating' as const, 'queued' as const, 'in_progress' as const],
  pageSize: 100,
};

interface Row {
  jobs: number;
  naive: number;
  live: number;
  liveChanges: number;
  scattered: number;
  scatteredVanished: number;
  quiet: number;
}

async function measure(n: number): Promise<Row> {
  const sim = await startSimulator({ seed: 7, jobs: n, days: 14, now: NOW });
  const dir = mkdtempSync(join(tmpdir(), 'retab-bench-steady-'));
  const mirror = openMirror(join(dir, 'mirror.db'));
  const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url });
  const deps: SyncDeps = { client, mirror, logger: silentLogger, now: () => sim.clock.now() };
  const cycle = async () => {
    sim.stats.reset();
    await runHead(deps, HEAD);
    await runActive(deps, ACTIVE);
    return sim.stats.total;
  };
  // Changes the mirror observed: new jobs and status transitions (one outbox event each).
  const events = () => mirror.sqlite.prepare('SELECT count(*) FROM job_events').pluck().get() as number;
  try {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    for (const d of backfillDays(day(NOW - 15 * 86_400_000), day(NOW))) {
      await runWindow(deps, { day: d, pageSize: 100, payloadMode: 'none' });
    }
    await cycle();
    // Steady state: live traffic replaces the generated history's dense last minutes in the head's overlap.
    for (let i = 0; i < 10; i++) {
      sim.clock.advance(60_000);
      await cycle();
    }

    sim.clock.advance(60_000);
    const before = events();
    const live = await cycle();
    const liveChanges = events() - before;

    const all = sim.store.all();
    for (let i = 0; i < 20; i++) {
      sim.store.create({
        endpoint: '/v1/documents/extract',
        request: { document: { filename: `bench-${i}.pdf`, url: 'https://example.com/bench.pdf' } },
      });
    }
    const running = all.filter((j) => j.status === 'queued' || j.status === 'in_progress').slice(0, 15);
    for (const j of running) sim.store.cancel(j.id);
    for (const j of all.filter((x) => x.status === 'failed').slice(0, 15)) sim.store.retry(j.id);
    const scattered = await cycle();
    const quiet = await cycle();

    sim.stats.reset();
    for await (const _ of client.iterPages({ limit: 100 })) {
      // a naive poller re-lists everything to see changes
    }
    return {
      jobs: sim.store.size,
      naive: sim.stats.total,
      live,
      liveChanges,
      scattered,
      scatteredVanished: running.length,
      quiet,
    };
  } finally {
    mirror.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const n of sizes) rows.push(await measure(n));
const out = [
  'Requests per steady-state cycle (head + active), counted by the simulator, vs a naive full re-list.',
  '',
  '| jobs mirrored | naive re-list | live minute (changes seen) | naive / live | k = 50 scattered (vanished resolved) | quiet |',
  '|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.jobs.toLocaleString('en-US')} | ${r.naive} | ${r.live} (${r.liveChanges}) | **${Math.round(r.naive / r.live)}×** | ${r.scattered} (${r.scatteredVanished}) | ${r.quiet} |`,
  ),
  '',
];
const big = rows.at(-1);
const small = rows[0];
if (big && small) {
  const ratio = big.naive / big.live;
  out.push(
    `At ${big.jobs.toLocaleString('en-US')} jobs a live cycle costs ${ratio.toFixed(0)}× fewer requests than a re-list (target ≥ 100×): ${ratio >= 100 ? 'met' : 'NOT met'}.`,
    `Cycle cost at ${small.jobs.toLocaleString('en-US')} vs ${big.jobs.toLocaleString('en-US')} jobs: live ${small.live} vs ${big.live}, scattered ${small.scattered} vs ${big.scattered}, quiet ${small.quiet} vs ${big.quiet} (independent of mirror size).`,
  );
}
process.stdout.write(`${out.join('\n')}\n`);
