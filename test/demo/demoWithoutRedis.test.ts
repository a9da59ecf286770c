import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { finalCounts, runDemoCli } from './runDemoCli.ts';

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 1));
    });
  });
}

describe('demo without Redis', () => {
  it('says so in one line, runs in-process for 20 s, exits 0 with the mirror equal to the simulator', async () => {
    const port = await closedPort();
    const run = await runDemoCli({ REDIS_URL: `redis://127.0.0.1:${port}` }, [
      '--duration',
      '20',
      '--jobs',
      '1500',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('No Redis at'))).toHaveLength(1);
    const counts = finalCounts(run.stdout);
    expect(counts, run.stdout).not.toBeNull();
    expect(counts!.mode).toBe('in-process');
    expect(counts!.simulator).toBeGreaterThan(1500);
    expect(counts!.mirror).toBe(counts!.simulator);
    expect(run.mirrorRows).toBe(counts!.simulator);
    expect(run.stderr).not.toMatch(/ECONNREFUSED.*\n.*ECONNREFUSED/); // no reconnect spam
    // The in-process timers kept syncing while the demo ran (every 2 s), not only the last pass.
    expect(run.activeRuns).toBeGreaterThanOrEqual(4);
    expect(run.stdout).toMatch(/^Console: http:\/\/127\.0\.0\.1:\d+\/ /m);
    // The ready-to-paste queries run this CLI with node (~0.25 s), not through npx (+~0.7 s of npm start-up).
    const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
    expect(run.stdout).toContain(`MIRROR_DB=${run.dbPath} node ${bin} stats --by endpoint`);
    expect(run.stdout).not.toContain('npx');
  }, 90_000);
});
