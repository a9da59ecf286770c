/** The mirror file deleted or replaced under a running worker: it stops, saying so in one line naming MIRROR_DB. */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { watchMirrorFile } from '../../src/mirror/watchMirrorFile.ts';
import { startWorker } from '../../src/queue/worker.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { captureLogs, dropPrefix, SIM_NOW, type TempDir, tempDir, testConfig, waitFor } from './helpers.ts';

const redisUrl = inject('redisUrl');
let sim: Simulator;
let tmp: TempDir;

beforeAll(async () => {
  sim = await startSimulator({ seed: 31, jobs: 30, days: 1, now: SIM_NOW });
  tmp = tempDir();
});
afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

it('a worker whose file is deleted stops within a check and says why, naming MIRROR_DB', async () => {
  const logs = captureLogs('info');
  const config = testConfig({ redisUrl, sim, dbPath: tmp.dbPath });
  const lost: string[] = [];
  const worker = await startWorker({
    config,
    logger: logs.logger,
    events: false,
    mirrorCheckMs: 50,
    onMirrorLost: (reason) => lost.push(reason),
  });
  try {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${tmp.dbPath}${suffix}`, { force: true });
    await waitFor('the worker to notice', () => lost.length === 1, { timeoutMs: 10_000, intervalMs: 50 });
    expect(lost[0]).toMatch(/mirror file .*mirror\.db was deleted while in use \(MIRROR_DB\); stopping/);
    expect(logs.lines.some((l) => l.level === 50 && String(l.msg) === lost[0])).toBe(true);
    expect(logs.lines.some((l) => l.msg === 'worker stopped')).toBe(true);
  } finally {
    await worker.close();
    await dropPrefix(redisUrl, config.queuePrefix);
  }
});

it('a file replaced under the same name is noticed too', async () => {
  const path = `${tmp.dir}/replaced.db`;
  writeFileSync(path, 'a');
  const reasons: string[] = [];
  const stop = watchMirrorFile(path, (r) => reasons.push(r), { everyMs: 20 });
  try {
    writeFileSync(`${path}.new`, 'b');
    renameSync(`${path}.new`, path);
    await waitFor('the replacement to be noticed', () => reasons.length === 1, {
      timeoutMs: 5000,
      intervalMs: 20,
    });
    expect(reasons[0]).toContain('was replaced by another file while in use (MIRROR_DB)');
  } finally {
    stop();
  }
});
