/**
 * The API key never leaves the process that uses it: after a realistic mix (a sync the upstream refuses
 * with an error that echoes the key, a sync through 5xx and resets at trace level, a scheduled worker, the
 * local server, an in-process sync with a captured logger), the key appears in no log line, no CLI output,
 * no error message, no event payload, no row (sync_runs, sync_state, quarantine), no byte of the database
 * file or its WAL, and no Redis key the worker wrote.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { openMirror } from '../../src/mirror/openMirror.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { ACTIVE_STATUSES } from '../../src/retab/schemas.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { syncOnce } from '../../src/sync/syncOnce.ts';
import {
  type CliResult,
  cliEnv,
  dropPrefix,
  freePort,
  type ProxyAnswer,
  query,
  runCli,
  spawnCli,
  startProxy,
  type TempDir,
  tempDir,
  uniquePrefix,
  waitFor,
} from './helpers.ts';

const redisUrl = inject('redisUrl');
const KEY = `sk-live-${randomBytes(24).toString('base64url')}`;

/** How the upstream misbehaves, switched per phase: refusals and crashes that echo the caller's key. */
let mode: 'ok' | 'refuse' | 'crash' = 'ok';
let echoed = 0;
function echoKey(_url: URL, answer: ProxyAnswer): ProxyAnswer {
  if (mode === 'refuse') {
    echoed++;
    return {
      status: 403,
      headers: { 'content-type': 'application/json' },
      json: {
        detail: {
          code: 'forbidden',
          message: `The key ${KEY} lacks the jobs:read scope.`,
          details: { key: KEY },
        },
      },
      text: '',
    };
  }
  if (mode === 'crash' && echoed++ % 3 === 0) {
    return {
      status: 502,
      headers: { 'content-type': 'text/html' },
      json: undefined,
      text: `<html><body>Bad gateway while forwarding Api-Key: ${KEY}</body></html>`,
    };
  }
  return answer;
}

describe('secrets', () => {
  let sim: Simulator;
  let tmp: TempDir;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  const prefix = uniquePrefix();
  const outputs: string[] = [];
  const keep = (label: string, r: Pick<CliResult, 'stdout' | 'stderr'>) =>
    outputs.push(`[${label} stdout]\n${r.stdout}`, `[${label} stderr]\n${r.stderr}`);

  beforeAll(async () => {
    sim = await startSimulator({ seed: 99, jobs: 80, days: 2, now: Date.now() - 2 * 3600_000, apiKey: KEY });
    tmp = tempDir();
    proxy = await startProxy(sim.url, echoKey);
  });
  afterAll(async () => {
    await proxy.close();
    await sim.close();
    tmp.cleanup();
    await dropPrefix(redisUrl, prefix);
  });

  // Six CLI processes and a scheduled worker: ~35 s on a quiet machine, and a loaded CI machine (other jobs,
  // 2 cores) can take several times that. No step is timed; the budget only has to outlast a slow machine.
  it('appears nowhere after refusals, storms, a worker, the server and captured logs', {
    timeout: 300_000,
  }, async () => {
    const env = cliEnv({ url: proxy.url, apiKey: KEY }, tmp.dbPath, {
      LOG_LEVEL: 'trace',
      MAX_RETRIES: '8',
      RATE_LIMIT_RPS: '200',
      PAGE_SIZE: '25',
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      POLL_HEAD_MS: '1000',
      POLL_ACTIVE_MS: '1000',
      POLL_HYDRATE_MS: '1000',
    });

    // 1. Upstream refuses, quoting the key back: the run fails, saying why, without the key.
    mode = 'refuse';
    const refused = await runCli(['sync', '--no-progress'], env);
    keep('refused sync', refused);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^retab-mirror: sync failed: .*403.*\[Redacted\] lacks the jobs:read scope/m,
    );

    // Keep a connection open from here on, so the WAL file stays on disk to be inspected.
    const hold = new Database(tmp.dbPath);
    try {
      // 2. A storm of 5xx (some echoing the key) and resets, logged at trace.
      mode = 'crash';
      sim.faults.set({ probabilities: { http500: 0.2, reset: 0.05 } });
      const stormy = await runCli(['sync', '--no-progress', '--backfill-days', '2'], env);
      keep('stormy sync', stormy);
      expect(stormy.code, stormy.stderr.slice(-2000)).toBe(0);
      expect(stormy.stderr).toContain('retrying');

      // 3. The scheduled worker at debug, through the same storm, until it has run its schedule.
      sim.clock.advance(60_000);
      const worker = spawnCli(['worker'], { ...env, LOG_LEVEL: 'debug' });
      const before =
        query<{ id: number | null }>(tmp.dbPath, 'SELECT max(id) AS id FROM sync_runs')[0]?.id ?? 0;
      try {
        await waitFor(
          'the worker to run head and active',
          () =>
            query<{ n: number }>(
              tmp.dbPath,
              "SELECT count(DISTINCT task) AS n FROM sync_runs WHERE id > ? AND outcome = 'success' AND task IN ('head', 'active')",
              before,
            )[0]?.n === 2,
          180_000,
          100,
        );
      } finally {
        worker.child.kill('SIGTERM');
      }
      const stopped = await worker.exited;
      keep('worker', stopped);
      expect(stopped.code, stopped.stderr.slice(-2000)).toBe(0);
      sim.faults.clear();
      mode = 'ok';

      // 4. The local server at trace, asked with the key in headers and in a query.
      const port = await freePort();
      const server = spawnCli(['serve', '--port', String(port)], env);
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitFor(
          'the server to listen',
          () =>
            fetch(`${base}/healthz`).then(
              (r) => r.ok,
              () => false,
            ),
          120_000,
          100,
        );
        const [job] = query<{ id: string }>(tmp.dbPath, 'SELECT id FROM jobs LIMIT 1');
        for (const path of [
          '/v1/jobs?limit=5',
          `/v1/jobs/${job?.id}`,
          '/v1/jobs?limit=abc',
          `/v1/jobs?model=${encodeURIComponent(KEY)}`,
          '/v1/mirror/stats?by=endpoint',
          '/metrics',
          '/nope',
        ]) {
          const res = await fetch(base + path, {
            headers: { 'Api-Key': KEY, Authorization: `Bearer ${KEY}` },
          });
          await res.text();
        }
      } finally {
        server.child.kill('SIGTERM');
      }
      keep('server', await server.exited);

      // 5. In-process, with the logger captured: the same client and sync the CLI uses.
      const lines: string[] = [];
      const logger = createLogger({
        level: 'trace',
        destination: { write: (l: string) => void lines.push(l) },
        pretty: false,
      });
      const mirror = openMirror(tmp.dbPath);
      mode = 'refuse';
      let pass: Awaited<ReturnType<typeof syncOnce>>;
      try {
        const client = createRetabClient({
          apiKey: KEY,
          baseUrl: proxy.url,
          logger,
          maxRetries: 1,
          minRetryDelayMs: 10,
        });
        pass = await syncOnce(
          { client, mirror, logger },
          {
            pageSize: 25,
            payloadMode: 'request',
            overlapSeconds: 300,
            backfillDays: 3,
            activeStatuses: [...ACTIVE_STATUSES],
          },
        );
      } finally {
        mirror.close();
        mode = 'ok';
      }
      expect(pass.outcome).toBe('failed');
      outputs.push(`[in-process error]\n${pass.error}`, `[in-process logs]\n${lines.join('')}`);
      expect(lines.length).toBeGreaterThan(0);

      // The search.
      const hits: string[] = [];
      const search = (label: string, text: string) => {
        if (text.includes(KEY)) hits.push(label);
      };
      for (const o of outputs) search(o.slice(0, o.indexOf('\n')), o);
      for (const [table, sql] of [
        ['job_events', 'SELECT * FROM job_events'],
        ['sync_runs', 'SELECT * FROM sync_runs'],
        ['sync_state', 'SELECT * FROM sync_state'],
        ['quarantine', 'SELECT * FROM quarantine'],
        ['jobs', 'SELECT * FROM jobs'],
      ] as const) {
        search(`table ${table}`, JSON.stringify(hold.prepare(sql).all()));
      }
      expect(existsSync(`${tmp.dbPath}-wal`)).toBe(true);
      for (const file of [tmp.dbPath, `${tmp.dbPath}-wal`]) {
        const bytes = readFileSync(file);
        if (bytes.includes(Buffer.from(KEY)) || bytes.includes(Buffer.from(KEY, 'utf16le')))
          hits.push(`file ${file}`);
      }
      search('redis', await redisContents(redisUrl, prefix));

      // It was all real: the refusals and crashes echoing the key did reach us, and were scrubbed.
      expect(echoed).toBeGreaterThan(3);
      expect(outputs.join('\n')).toContain('[Redacted]');
      expect(
        query(tmp.dbPath, "SELECT id FROM sync_runs WHERE error LIKE '%[Redacted]%'").length,
      ).toBeGreaterThan(0);
      expect(hits).toEqual([]);
    } finally {
      hold.close();
    }
  });
});

/** Every value stored under a BullMQ prefix, as one string. */
async function redisContents(url: string, prefix: string): Promise<string> {
  const r = new Redis(url);
  try {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await r.type(key);
        if (type === 'string') out.push((await r.get(key)) ?? '');
        else if (type === 'hash') out.push(JSON.stringify(await r.hgetall(key)));
        else if (type === 'list') out.push(JSON.stringify(await r.lrange(key, 0, -1)));
        else if (type === 'set') out.push(JSON.stringify(await r.smembers(key)));
        else if (type === 'zset') out.push(JSON.stringify(await r.zrange(key, 0, -1)));
        else if (type === 'stream') out.push(JSON.stringify(await r.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
    expect(out.length).toBeGreaterThan(0);
    return out.join('\n');
  } finally {
    r.disconnect();
  }
}
