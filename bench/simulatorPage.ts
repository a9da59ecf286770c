/**
 * Simulator page latency: p50/p95 of 100-item `GET /v1/jobs` pages over HTTP, on a simulator started as a
 * separate process through the CLI, against a baseline measured in the same run: the same page (same
 * filters, same cursor, same rows) as a hand-written indexed better-sqlite3 query in a temp database,
 * in-process. Every sampled page's ids are checked equal on both sides.
 *
 * `npx tsx bench/simulatorPage.ts [--jobs N] [--quick] [--samples K]` (default 1,000,000 jobs; --quick:
 * 100,000; 300 samples per scenario). Prints a markdown table.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { generateJobs, type SimJob } from '../src/simulator/index.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const flag = (name: string) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : undefined);
const N = flag('--jobs') ?? (quick ? 100_000 : 1_000_000);
const SAMPLES = flag('--samples') ?? 300;
const SEED = 1;
const DAYS = 30;
const NOW = Date.parse('2026-11-01T12:00:00Z');
const LIMIT = 100;
const API_KEY = `sk-bench-${process.pid}`;
const root = fileURLToPath(new URL('..', import.meta.url));

interface Scenario {
  name: string;
  query: Record<string, string>;
  match: (r: SimJob) => boolean;
  /** SQL returning the page after the cursor (params: ...filter values, cursor created_at, cursor id). */
  sql: string;
  params: unknown[];
}

const FROM = new Date(NOW - 10 * 86_400_000).toISOString().slice(0, 10);
const FROM_SEC = Date.parse(`${FROM}T00:00:00Z`) / 1000;
const COLUMNS = 'j.id, j.status, j.endpoint, j.created_at, j.started_at, j.completed_at, j.metadata, j.error';
const PAGE = `AND (j.created_at, j.id) < (?, ?) ORDER BY j.created_at DESC, j.id DESC LIMIT ${LIMIT + 1}`;

const SCENARIOS: Scenario[] = [
  {
    name: 'unfiltered',
    query: {},
    match: () => true,
    sql: `SELECT ${COLUMNS} FROM jobs j WHERE 1 ${PAGE}`,
    params: [],
  },
  {
    name: 'status=failed',
    query: { status: 'failed' },
    match: (r) => r.status === 'failed',
    sql: `SELECT ${COLUMNS} FROM jobs j WHERE j.status = ? ${PAGE}`,
    params: ['failed'],
  },
  {
    name: `status=completed + from_date=${FROM}`,
    query: { status: 'completed', from_date: FROM },
    match: (r) => r.status === 'completed' && r.createdAt >= FROM_SEC,
    sql: `SELECT ${COLUMNS} FROM jobs j WHERE j.status = ? AND j.created_at >= ? ${PAGE}`,
    params: ['completed', FROM_SEC],
  },
  {
    name: 'endpoint=/v1/documents/split',
    query: { endpoint: '/v1/documents/split' },
    match: (r) => r.endpoint === '/v1/documents/split',
    sql: `SELECT ${COLUMNS} FROM jobs j WHERE j.endpoint = ? ${PAGE}`,
    params: ['/v1/documents/split'],
  },
  {
    name: 'source=workflow',
    query: { source: 'workflow' },
    match: (r) => r.source === 'workflow',
    sql: `SELECT ${COLUMNS} FROM jobs j WHERE j.source = ? ${PAGE}`,
    params: ['workflow'],
  },
  {
    name: 'metadata={"customer":"acme"}',
    query: { metadata: '{"customer":"acme"}' },
    match: (r) => r.metadata?.customer === 'acme',
    sql: `SELECT ${COLUMNS} FROM job_metadata m JOIN jobs j ON j.id = m.job_id
          WHERE m.key = ? AND m.value = ? AND (m.created_at, m.job_id) < (?, ?)
          ORDER BY m.created_at DESC, m.job_id DESC LIMIT ${LIMIT + 1}`,
    params: ['customer', 'acme'],
  },
];

async function startChild(): Promise<{ child: ChildProcess; url: string; startMs: number }> {
  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'simulator',
      '--port',
      '0',
      '--jobs',
      String(N),
      '--days',
      String(DAYS),
    ].concat(['--seed', String(SEED), '--now', String(NOW), '--api-key', API_KEY]),
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of rl) {
    if (line.startsWith('RETAB_BASE_URL='))
      return { child, url: line.slice('RETAB_BASE_URL='.length), startMs: Date.now() - t0 };
  }
  throw new Error('the simulator exited before printing its base URL');
}

function buildBaseline(jobs: SimJob[]): { db: Database.Database; dir: string; ms: number } {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'retab-sim-bench-'));
  const db = new Database(join(dir, 'bench.db'));
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec(`CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT, endpoint TEXT, source TEXT, created_at INTEGER,
             started_at INTEGER, completed_at INTEGER, metadata TEXT, error TEXT);
           CREATE TABLE job_metadata (job_id TEXT, key TEXT, value TEXT, created_at INTEGER);`);
  const insJob = db.prepare('INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insMeta = db.prepare('INSERT INTO job_metadata VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const r of jobs) {
      insJob.run(
        r.id,
        r.status,
        r.endpoint,
        r.source,
        r.createdAt,
        r.startedAt,
        r.completedAt,
        r.metadata ? JSON.stringify(r.metadata) : null,
        r.error ? JSON.stringify(r.error) : null,
      );
      for (const [k, v] of Object.entries(r.metadata ?? {})) insMeta.run(r.id, k, v, r.createdAt);
    }
  })();
  db.exec(`CREATE INDEX jobs_listing ON jobs (created_at, id);
           CREATE INDEX jobs_status ON jobs (status, created_at, id);
           CREATE INDEX jobs_endpoint ON jobs (endpoint, created_at, id);
           CREATE INDEX jobs_source ON jobs (source, created_at, id);
           CREATE INDEX meta_pair ON job_metadata (key, value, created_at, job_id);
           ANALYZE;`);
  return { db, dir, ms: Date.now() - t0 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] as number;
}

/** Deterministic sample of cursors: ids of matching jobs spread over the set (the newest one excluded). */
function cursors(jobs: SimJob[], match: (r: SimJob) => boolean): SimJob[] {
  const pool = jobs.filter(match);
  const out: SimJob[] = [];
  for (let i = 0; i < SAMPLES; i++)
    out.push(pool[Math.floor(((i * 7919) % SAMPLES) * ((pool.length - 1) / SAMPLES))] as SimJob);
  return out;
}

async function main(): Promise<void> {
  // The child generates its jobs alone first, so its start-up time is not inflated by this process' work.
  const { child, url, startMs } = await startChild();
  const tGen = Date.now();
  const jobs = generateJobs(SEED, N, DAYS, NOW);
  const genMs = Date.now() - tGen;
  const base = buildBaseline(jobs);
  const rows: string[] = [];
  try {
    const info = (await (await fetch(`${url.replace(/\/v1$/, '')}/_sim/info`)).json()) as {
      rssMb: number;
      heapUsedMb: number;
    };
    for (const s of SCENARIOS) {
      const stmt = base.db.prepare(s.sql);
      const sim: number[] = [];
      const sql: number[] = [];
      const picks = cursors(jobs, s.match);
      for (let i = -20; i < picks.length; i++) {
        const cursor = picks[Math.max(0, i)] as SimJob;
        const qs = new URLSearchParams({ ...s.query, limit: String(LIMIT), after: cursor.id });
        const t0 = performance.now();
        const res = await fetch(`${url}/jobs?${qs}`, { headers: { 'Api-Key': API_KEY } });
        const body = await res.arrayBuffer();
        const t1 = performance.now();
        const page = stmt.all(...s.params, cursor.createdAt, cursor.id) as { id: string }[];
        const t2 = performance.now();
        if (i < 0) continue;
        const data = (JSON.parse(Buffer.from(body).toString()) as { data: { id: string }[] }).data;
        const want = page.slice(0, LIMIT).map((r) => r.id);
        if (data.map((j) => j.id).join() !== want.join())
          throw new Error(`${s.name}: simulator and SQLite pages differ after ${cursor.id}`);
        sim.push(t1 - t0);
        sql.push(t2 - t1);
      }
      sim.sort((a, b) => a - b);
      sql.sort((a, b) => a - b);
      const f = (x: number) => x.toFixed(2);
      const [s50, s95, q50, q95] = [
        percentile(sim, 0.5),
        percentile(sim, 0.95),
        percentile(sql, 0.5),
        percentile(sql, 0.95),
      ];
      rows.push(
        `| ${s.name} | ${f(s50)} | ${f(s95)} | ${f(q50)} | ${f(q95)} | ${(s50 / q50).toFixed(1)}× | ${(s95 / q95).toFixed(1)}× |`,
      );
    }
    process.stdout.write(
      [
        `Simulator: ${N.toLocaleString('en-US')} jobs over ${DAYS} days (seed ${SEED}), started as a child process through the CLI in ${(startMs / 1000).toFixed(1)} s (RSS ${info.rssMb} MB, JS heap ${info.heapUsedMb} MB). `,
        `Generator alone in this process: ${(genMs / 1000).toFixed(1)} s. Baseline: the same page as an indexed better-sqlite3 query (temp DB built in ${(base.ms / 1000).toFixed(1)} s), in-process, no HTTP. `,
        `${SAMPLES} pages of ${LIMIT} per scenario, each after a different cursor, ids checked equal on both sides.`,
        '',
        '| scenario | simulator p50 (ms, HTTP) | p95 | SQLite p50 (ms) | p95 | ratio p50 | ratio p95 |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...rows,
        '',
      ].join('\n'),
    );
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    base.db.close();
    rmSync(base.dir, { recursive: true, force: true });
  }
}

await main();
