/**
 * Input fuzzing of what users and scripts type: 500 seeded random parameter sets against the local read API
 * (real parameter names and junk, hostile values: huge strings, unicode, negative and enormous numbers,
 * JSON fragments, catastrophic-backtracking regexes, repeated keys), and random flag sets through
 * `retab-mirror jobs list`. The server must answer 200 or a 4xx with a `detail` and never a 5xx; the CLI
 * must exit 0, 1 or 2 with a one-line error, never a stack trace; every regex must finish.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { type Mirror, openMirror } from '../../src/mirror/openMirror.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { ACTIVE_STATUSES } from '../../src/retab/schemas.ts';
import { createServer } from '../../src/server/createServer.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { syncOnce } from '../../src/sync/syncOnce.ts';
import { cliEnv, type Rng, runCli, STACK_LINE, seeded, type TempDir, tempDir, trials } from './helpers.ts';

const SEED = 500;
const SERVER_CASES = 500;
/** CLI runs cost a process start each (~1.5 s of CPU): 10 by default, 40 with RELIABILITY_TRIALS=20. */
const CLI_CASES = 2 * trials();
/** A request or CLI run slower than this is a hang (a regex gone exponential), not a slow machine. */
const HANG_MS = 10_000;

const PARAMS = [
  'before',
  'after',
  'limit',
  'order',
  'id',
  'status',
  'endpoint',
  'source',
  'project_id',
  'workflow_id',
  'workflow_node_id',
  'workflow_block_id',
  'model',
  'filename_regex',
  'filename_contains',
  'document_type',
  'from_date',
  'to_date',
  'metadata',
  'include_request',
  'include_response',
  // stats and events
  'by',
  'from',
  'to',
  'since',
  'type',
];
const JUNK_KEYS = [
  '',
  'x',
  '__proto__',
  'constructor',
  'toString',
  'limit[]',
  'a[b][c]',
  'status.0',
  '💥',
  '%00',
];

function values(ids: string[]): (() => string)[] {
  const big = 'a'.repeat(100_000);
  return [
    () => big,
    () => `${big}!`,
    () => '💥\u0000\uffff\u202e漢字',
    () => 'Ω'.repeat(20_000),
    () => '-1',
    () => '-99999999999999999999',
    () => '1e309',
    () => 'NaN',
    () => '0x10',
    () => '1.5',
    () => '0',
    () => '101',
    () => '{"a":',
    () => '{"__proto__":{"polluted":"yes"}}',
    () => '{"a":{"b":1}}',
    () => '[1,2]',
    () => 'null',
    () => 'true',
    () => '(a+)+$',
    () => '(x*)*y',
    () => '((a*)*)*b',
    () => `(${'a?'.repeat(30)})${'a'.repeat(30)}`,
    () => '(?=a)b',
    () => '\\',
    () => '[',
    () => '.*',
    () => '%',
    () => '%E0%A4%A',
    () => 'job.discovered,'.repeat(40_000),
    () => 'pdf,'.repeat(5_000),
    () => '2026-11-01',
    () => '2026-13-45',
    () => '0000-00-00',
    () => 'desc',
    () => 'queued',
    () => 'failed',
    () => '/v1/documents/extract',
    () => 'api',
    () => ids[0] ?? 'job_x',
    () => ids[ids.length - 1] ?? 'job_y',
    () => 'job_doesnotexist000000000',
    () => '',
  ];
}

/** A random query string: real and junk keys, hostile values, repeats, sometimes raw (unencoded) bytes. */
function randomQuery(rng: Rng, pool: (() => string)[]): string {
  const pairs: string[] = [];
  const n = rng.int(0, 7);
  for (let i = 0; i < n; i++) {
    const key = rng.chance(0.8) ? rng.pick(PARAMS) : rng.pick(JUNK_KEYS);
    const value = rng.pick(pool)();
    const enc = rng.chance(0.9) ? encodeURIComponent : (s: string) => s.replace(/[#\s]/g, '');
    pairs.push(`${enc(key)}=${enc(value)}`);
    if (rng.chance(0.15)) pairs.push(`${enc(key)}=${enc(rng.pick(pool)())}`); // repeated key
  }
  return pairs.join('&');
}

let sim: Simulator;
let tmp: TempDir;
let ids: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ seed: SEED, jobs: 150, days: 2, now: Date.parse('2026-11-01T12:00:00Z') });
  tmp = tempDir();
  const mirror = openMirror(tmp.dbPath);
  try {
    const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url });
    const pass = await syncOnce(
      { client, mirror, logger: createLogger({ level: 'silent' }), now: () => sim.clock.now() },
      {
        pageSize: 100,
        payloadMode: 'request',
        overlapSeconds: 300,
        backfillDays: 3,
        activeStatuses: [...ACTIVE_STATUSES],
      },
    );
    expect(pass.outcome).toBe('success');
    ids = (mirror.sqlite.prepare('SELECT id FROM jobs ORDER BY created_at').pluck().all() as string[]).slice(
      0,
      5,
    );
  } finally {
    mirror.close();
  }
});
afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

describe('local read API fuzz', () => {
  let app: FastifyInstance;
  let reader: Mirror;
  let base: string;
  const errors: string[] = [];

  beforeAll(async () => {
    reader = openMirror(tmp.dbPath, { readonly: true });
    const logger = createLogger({
      level: 'error',
      destination: { write: (line: string) => void errors.push(line) },
      pretty: false,
    });
    app = createServer({
      mirror: reader,
      config: { serverHost: '127.0.0.1', serverPort: 0, serverToken: undefined },
      logger,
      events: { pollMs: 50, keepAliveMs: 1000 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    await app.close();
    reader.close();
  });

  it(`${SERVER_CASES} random parameter sets: 200 or 4xx with a detail, never a 5xx, every regex finishes`, async () => {
    const rng = seeded(SEED);
    const pool = values(ids);
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    const bad: string[] = [];
    const check = (label: string, status: number, body: string, took: number) => {
      if (took > HANG_MS) bad.push(`${label} took ${took} ms`);
      if (status >= 500 || status < 200 || (status >= 300 && status < 400))
        bad.push(`${label}: ${body.slice(0, 200)}`);
      else if (status >= 400) {
        let detail: unknown;
        try {
          detail = (JSON.parse(body) as { detail?: unknown }).detail;
        } catch {
          detail = undefined;
        }
        if (!detail) bad.push(`${label}: no detail in ${body.slice(0, 200)}`);
      }
    };
    /** Over real HTTP (the parser's limits apply); a stream is hung up on once its status is known. */
    const overHttp = async (url: string) => {
      const stop = new AbortController();
      const res = await fetch(base + url, { signal: stop.signal });
      const body = res.headers.get('content-type')?.includes('event-stream') ? '' : await res.text();
      stop.abort();
      return { status: res.status, body };
    };
    // The edges first: refused before routing (malformed escapes, over-long ids, URLs over the header limit).
    const edges = [
      '/v1/jobs/%E0%A4%A',
      '/v1/jobs/%',
      `/v1/jobs/${'a'.repeat(5000)}`,
      `/v1/jobs?filename_regex=${encodeURIComponent(`${'(a+)+'.repeat(1000)}$`)}`,
      `/v1/jobs?filename_regex=${encodeURIComponent(`${'(x*)*'.repeat(1000)}y`)}&filename_contains=${'a'.repeat(4000)}`,
      `/v1/mirror/events?type=${'job.discovered,'.repeat(2000)}`,
    ];
    const routes = [
      '/v1/jobs',
      '/v1/jobs/:id',
      '/v1/mirror/stats',
      '/v1/mirror/events',
      '/healthz',
      '/metrics',
    ];
    try {
      for (const url of edges) {
        const started = Date.now();
        const { status, body } = await overHttp(url);
        check(`edge GET ${url.slice(0, 80)}… → ${status}`, status, body, Date.now() - started);
      }
      for (let i = 0; i < SERVER_CASES; i++) {
        let path = rng.pick(routes);
        if (path === '/v1/jobs/:id') {
          const id = rng.pick(pool)();
          // Sometimes unencoded: malformed percent-escapes must be refused, not crash.
          path = `/v1/jobs/${(rng.chance(0.85) ? encodeURIComponent(id) : id.replace(/[#?\s/]/g, '')) || 'x'}`;
        }
        const url = `${path}?${randomQuery(rng, pool)}`;
        const started = Date.now();
        // The event stream never ends: real HTTP for it; the in-process injector for the rest (fast).
        const { status, body } =
          path === '/v1/mirror/events'
            ? await overHttp(url)
            : await app.inject({ method: 'GET', url }).then((r) => ({ status: r.statusCode, body: r.body }));
        check(
          `#${i} GET ${url.slice(0, 200)}${url.length > 200 ? '…' : ''} → ${status}`,
          status,
          body,
          Date.now() - started,
        );
      }
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(bad).toEqual([]);
    expect(errors).toEqual([]); // nothing logged as a server failure
    expect(unhandled).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('CLI fuzz', () => {
  const FLAGS: [string, boolean][] = [
    ['--id', true],
    ['--status', true],
    ['--endpoint', true],
    ['--source', true],
    ['--project-id', true],
    ['--workflow-id', true],
    ['--workflow-node-id', true],
    ['--model', true],
    ['--filename-regex', true],
    ['--filename-contains', true],
    ['--document-type', true],
    ['--from-date', true],
    ['--to-date', true],
    ['--metadata', true],
    ['--limit', true],
    ['--after', true],
    ['--before', true],
    ['--order', true],
    ['--all', false],
    ['--include-request', false],
    ['--include-response', false],
    ['--jsonl', false],
    ['--csv', false],
    ['--json', false],
    ['--bogus', false],
    ['-x', false],
    ['--limit', false], // a value-taking flag without its value
  ];

  it(
    `${CLI_CASES} random flag sets for jobs list: exit 0, 1 or 2, a one-line error, never a stack trace`,
    async () => {
      const rng = seeded(SEED + 1);
      // Argument vectors stay well under the OS limit, and cannot carry NUL bytes: cap and strip.
      const pool = values(ids).map((v) => () => v().slice(0, 2000).replaceAll('\0', ''));
      const cases = Array.from({ length: CLI_CASES }, () => {
        const args = ['jobs', 'list'];
        for (let n = rng.int(0, 5); n > 0; n--) {
          const [flag, takesValue] = rng.pick(FLAGS);
          args.push(flag);
          if (takesValue) args.push(rng.chance(0.3) ? `k=${rng.pick(pool)()}` : rng.pick(pool)());
        }
        return args;
      });
      const env = cliEnv(undefined, tmp.dbPath);
      const bad: string[] = [];
      // Two at a time: each case is a process start.
      for (let i = 0; i < cases.length; i += 2) {
        const batch = cases.slice(i, i + 2);
        const results = await Promise.all(batch.map((args) => runCli(args, env, { timeoutMs: HANG_MS * 3 })));
        results.forEach((r, j) => {
          const label = `${JSON.stringify(batch[j]).slice(0, 300)} → ${r.code ?? r.signal}`;
          if (r.code !== 0 && r.code !== 1 && r.code !== 2) bad.push(`${label}: ${r.stderr.slice(0, 300)}`);
          if (STACK_LINE.test(r.stderr) || STACK_LINE.test(r.stdout)) bad.push(`${label}: stack trace`);
          if (r.code !== 0) {
            const errorLines = r.stderr.split('\n').filter((l) => /^(error|retab-mirror):/.test(l));
            if (errorLines.length !== 1)
              bad.push(`${label}: ${errorLines.length} error lines in ${r.stderr.slice(0, 300)}`);
          }
        });
      }
      expect(bad).toEqual([]);
    },
    30_000 + CLI_CASES * 8_000,
  );
});
