/** What a running worker prints by default: one line per run, not one (or ten) per status change. */
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startWorker } from '../../src/queue/worker.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { captureLogs, dropPrefix, SIM_NOW, type TempDir, tempDir, testConfig, waitFor } from './helpers.ts';

const redisUrl = inject('redisUrl');
let sim: Simulator;
let tmp: TempDir;

beforeAll(async () => {
  sim = await startSimulator({ seed: 12, jobs: 150, days: 2, now: SIM_NOW });
  tmp = tempDir();
});

afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

it('with no alert rules: a line per run, no line per change event', async () => {
  const mirror = tmp.open();
  const logs = captureLogs('info');
  const config = testConfig({ redisUrl, sim, dbPath: tmp.dbPath }, { headEveryMs: 300, activeEveryMs: 300 });
  const changeEvents = () =>
    (
      mirror.sqlite
        .prepare("SELECT count(*) AS n FROM job_events WHERE type = 'job.status_changed' AND backfill = 0")
        .get() as { n: number }
    ).n;
  const worker = await startWorker({ config, mirror, logger: logs.logger, now: () => sim.clock.now() });
  try {
    await waitFor(
      'a head and an active run, and their events delivered',
      () =>
        logs.lines.some((l) => /^head .*\d+ jobs/.test(String(l.msg))) &&
        logs.lines.some((l) => /^active:\w+ /.test(String(l.msg))),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    // Upstream moves on: the next sweeps see status changes (news, not backfill history).
    const before = changeEvents();
    for (let i = 0; i < 10 && changeEvents() === before; i++) {
      sim.clock.advance(120_000);
      await new Promise((r) => setTimeout(r, 400));
    }
    expect(changeEvents()).toBeGreaterThan(before);
    await worker.dispatcher?.drain();
  } finally {
    await worker.close();
    await dropPrefix(redisUrl, config.queuePrefix);
  }
  const events = (mirror.sqlite.prepare('SELECT count(*) AS n FROM job_events').get() as { n: number }).n;
  expect(events).toBeGreaterThan(100);
  const head = logs.lines.find((l) => String(l.msg).startsWith('head '));
  expect(head?.msg).toMatch(/^head \d+ jobs \(\d+ new\), \d+ events, \d+ requests, \d+\.\d s$/);
  expect(logs.lines.filter((l) => l.sink === 'log')).toEqual([]);
  expect(logs.lines.length).toBeLessThan(40);
});
