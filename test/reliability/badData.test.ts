/**
 * Bad upstream data, through the real CLI: malformed items (missing field, a status that is not a string, wrong type), a
 * 1 MB request payload, items repeated across pages, a page of invalid JSON and a cut-off one (retried), a
 * cursor rejected mid-walk. Good items land, bad ones are quarantined with a reason and counted in the run,
 * nothing already mirrored changes, and the CLI ends with a clear exit code (0 when the run succeeded).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { openMirror } from '../../src/mirror/openMirror.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { ACTIVE_STATUSES, type Job } from '../../src/retab/schemas.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { lastDays } from '../../src/sync/partitions.ts';
import { syncOnce } from '../../src/sync/syncOnce.ts';
import {
  cliEnv,
  integrity,
  outboxProblems,
  overlappingPages,
  query,
  runCli,
  STACK_LINE,
  scriptFaults,
  startProxy,
  type TempDir,
  tempDir,
  truthDiff,
} from './helpers.ts';

const SEED = 77;
const MB = 1 << 20;

/** Every content column of every job, keyed by id (the bookkeeping times last_seen_at/observed_at excluded). */
function snapshot(dbPath: string): Map<string, Record<string, unknown>> {
  const rows = query<Record<string, unknown>>(dbPath, 'SELECT * FROM jobs');
  return new Map(
    rows.map((r) => {
      const { last_seen_at: _s, observed_at: _o, ...content } = r;
      return [r.id as string, content];
    }),
  );
}

describe('bad upstream data', () => {
  let sim: Simulator;
  let tmp: TempDir;

  beforeAll(async () => {
    sim = await startSimulator({ seed: SEED, jobs: 200, days: 2, now: Date.now() - 2 * 3600_000 });
    tmp = tempDir();
    // A clean mirror to start from (in-process: the same syncOnce the CLI runs).
    const mirror = openMirror(tmp.dbPath);
    try {
      const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url });
      const pass = await syncOnce(
        { client, mirror, logger: silentLogger },
        {
          pageSize: 20,
          payloadMode: 'request',
          overlapSeconds: 300,
          backfillDays: 3,
          activeStatuses: [...ACTIVE_STATUSES],
          windowDays: lastDays(Date.now(), 2),
        },
      );
      expect(pass.outcome).toBe('success');
    } finally {
      mirror.close();
    }
    expect(truthDiff(sim, tmp.dbPath)).toEqual([]);
  });
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
  });

  it('good items land, bad ones are quarantined with a reason, nothing mirrored changes wrongly', async () => {
    const before = snapshot(tmp.dbPath);
    // New upstream jobs (the clock does not move, so no mirrored job changes upstream): one carries 1 MB.
    const huge = sim.store.create({
      endpoint: '/v1/documents/extract',
      request: {
        document: {
          filename: 'scan-2026-archive.pdf',
          url: 'https://files.example.com/scan-2026-archive.pdf',
        },
        model: 'gpt-4.1',
        instructions: 'Extract every line item. '.repeat(MB / 25 + 1),
      },
      metadata: { batch: 'huge' },
    });
    const fresh: Job[] = [huge];
    for (let i = 0; i < 4; i++) {
      fresh.push(
        sim.store.create({
          endpoint: '/v1/documents/parse',
          request: {
            document: { filename: `letter-${i}.docx`, url: `https://files.example.com/letter-${i}.docx` },
          },
        }),
      );
    }

    const overlap = overlappingPages();
    const proxy = await startProxy(sim.url, overlap);
    let lists = 0;
    let continuations = 0;
    let cursorRejected = false;
    const unhook = scriptFaults(sim, (rec) => {
      if (rec.route !== 'list') return undefined;
      // `--reconcile` first reads upstream's clock with one `limit=1` list: not one of the scripted pages.
      if (rec.query.limit === '1') return undefined;
      const i = lists++;
      const midWindow = rec.query.after !== undefined && rec.query.from_date !== undefined;
      const c = midWindow ? continuations++ : -1;
      // A cursor rejected in the middle of a window walk: the window must start over, not fail.
      if (c === 0) {
        cursorRejected = true;
        return 'cursor_reject';
      }
      // Corrupt items on head's first page (the new jobs are there) and on two window pages further on.
      if (i === 0 || c === 2 || c === 3) return 'malformed_item';
      if (i === 1) return 'invalid_json';
      if (i === 4) return 'truncated';
      return undefined;
    });
    let result: Awaited<ReturnType<typeof runCli>>;
    try {
      result = await runCli(
        ['sync', '--no-progress', '--reconcile'],
        cliEnv({ url: proxy.url, apiKey: sim.apiKey }, tmp.dbPath, {
          PAGE_SIZE: '20',
          RATE_LIMIT_RPS: '500',
        }),
      );
    } finally {
      unhook();
      await proxy.close();
    }

    // The run succeeded, said what it quarantined, and printed no stack trace.
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\b3 quarantined\b/);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(cursorRejected).toBe(true);
    const served = sim.stats.requests.map((r) => r.fault).filter(Boolean);
    for (const kind of ['cursor_reject', 'invalid_json', 'truncated']) expect(served).toContain(kind);
    expect(served.filter((k) => k === 'malformed_item')).toHaveLength(3);
    expect(overlap.duplicated()).toBeGreaterThan(0);

    // Quarantined: the three corruptions, each with its reason, its job id and the raw item.
    const quarantined = query<{
      job_id: string | null;
      reason: string;
      raw: string;
      partition: string | null;
    }>(tmp.dbPath, 'SELECT job_id, reason, raw, partition FROM quarantine ORDER BY id');
    expect(quarantined).toHaveLength(3);
    const reasons = quarantined.map((q) => q.reason).join('\n');
    expect(reasons).toMatch(/status/);
    expect(reasons).toMatch(/created_at/);
    for (const q of quarantined) {
      expect(q.job_id).toMatch(/^job_/);
      expect(q.raw).toContain(q.job_id as string);
      expect(q.partition).toBeTruthy();
    }
    const runs = query<{ q: number }>(tmp.dbPath, 'SELECT sum(quarantined) AS q FROM sync_runs');
    expect(runs[0]?.q).toBe(3);

    // Good items landed, the 1 MB request whole.
    const stored = query<{ id: string; request: string }>(
      tmp.dbPath,
      `SELECT id, request FROM jobs WHERE id IN (${fresh.map(() => '?').join(',')})`,
      ...fresh.map((j) => j.id),
    );
    expect(stored.map((r) => r.id).sort()).toEqual(fresh.map((j) => j.id).sort());
    const hugeRow = stored.find((r) => r.id === huge.id);
    expect(hugeRow?.request.length).toBeGreaterThan(MB);
    expect(JSON.parse(hugeRow?.request ?? 'null')).toEqual(huge.request);

    // Nothing already mirrored changed: upstream did not move, so every stored row is as it was.
    const after = snapshot(tmp.dbPath);
    const changed = [...before].filter(([id, row]) => JSON.stringify(after.get(id)) !== JSON.stringify(row));
    expect(changed.map(([id]) => id)).toEqual([]);
    expect(after.size).toBe(before.size + fresh.length);
    // Duplicated and quarantined items produced no event beyond the new jobs' discoveries.
    expect(outboxProblems(tmp.dbPath)).toEqual([]);
    expect(integrity(tmp.dbPath)).toEqual(['ok']);

    // A clean run afterwards: the mirror equals upstream.
    const clean = await runCli(
      ['sync', '--no-progress'],
      cliEnv(sim, tmp.dbPath, { PAGE_SIZE: '20', RATE_LIMIT_RPS: '500' }),
    );
    expect(clean.code, clean.stderr).toBe(0);
    expect(truthDiff(sim, tmp.dbPath)).toEqual([]);
  });

  it('a head walk whose stored cursor was deleted upstream starts over instead of failing every run', async () => {
    const local = await startSimulator({ seed: SEED + 1, jobs: 800, days: 2, now: Date.now() - 3600_000 });
    const dir = tempDir();
    try {
      // A first backfill interrupted after its first write: its cursor is stored as the resume point.
      const mirror = openMirror(dir.dbPath);
      const stop = new AbortController();
      const client = createRetabClient({ apiKey: local.apiKey, baseUrl: local.url });
      const opts = {
        pageSize: 20,
        payloadMode: 'request' as const,
        overlapSeconds: 300,
        backfillDays: 3,
        activeStatuses: [...ACTIVE_STATUSES],
      };
      const pass = await syncOnce(
        {
          client,
          mirror,
          logger: silentLogger,
          signal: stop.signal,
          onPage: () => stop.abort(),
        },
        opts,
      );
      mirror.close();
      expect(pass.outcome).toBe('aborted');
      const [state] = query<{ cursor: string; status: string }>(
        dir.dbPath,
        "SELECT cursor, status FROM sync_state WHERE partition = 'head'",
      );
      expect(state?.status).toBe('running');
      // Upstream retention deletes that very job: the cursor now answers 400 invalid_cursor.
      expect(local.store.remove(state?.cursor as string)).toBe(true);

      // Before the fix every later pass failed on that cursor, forever; now the next one succeeds.
      const again = openMirror(dir.dbPath);
      try {
        const rerun = await syncOnce({ client, mirror: again, logger: silentLogger }, opts);
        expect(rerun.outcome, rerun.error).toBe('success');
      } finally {
        again.close();
      }
      // Everything upstream is mirrored; the deleted job stays (retention past upstream is a feature).
      expect(truthDiff(local, dir.dbPath)).toEqual([`${state?.cursor}: in the mirror but not upstream`]);
      expect(outboxProblems(dir.dbPath)).toEqual([]);
    } finally {
      await local.close();
      dir.cleanup();
    }
  });
});
