/**
 * Cold backfill: `sync` of N jobs (30 days, with requests) from an empty mirror, against the simulator
 * running as a separate process, compared with two floors measured in the same run on the same pages:
 *
 * - fetch floor: plain `fetch` + `JSON.parse` of every page the sync lists (the day windows, ascending,
 *   `include_request`, 100 per page), one request at a time;
 * - write floor: raw better-sqlite3 prepared INSERTs of the same rows the mirror stores for a new job — the
 *   `jobs` row, its `job_files` and `job_metadata` rows and its `job.discovered` outbox event — into a fresh
 *   mirror (same schema, indexes and pragmas), one transaction per page, row building (JSON) included.
 *
 * Target: sync ≤ 1.3 × max(fetch floor, write floor), i.e. fetching and writing overlap (prefetch) rather
 * than add up. Then the sync's peak RSS at two sizes (child processes, `process.resourceUsage().maxRSS`):
 * it should be flat (≤ 1.1×), since a walk holds at most two pages.
 *
 *   npx tsx bench/backfill.ts [--jobs 200000] [--rss 20000,100000,1000000] [--quick]   (--quick: 20k, rss 20k/50k)
 *   The memory ratio compares the two largest --rss sizes; with --jobs they give the 4 points of scaling.svg.
 *
 *   npx tsx bench/backfill.ts --store postgres [--jobs 200000] [--rss …]   (PG_BENCH_URL: the server)
 *   The same sync into a fresh PostgreSQL database (`MIRROR_DB` a URL, i.e. `openStore` → PgStore), against
 *   the same fetch floor and PostgreSQL's write floor: `COPY` of the same rows (jobs, files, metadata,
 *   events), one transaction per page, into another fresh database (bench/pgBench.ts). No RSS rows unless
 *   --rss is given.
 *
 * Prints markdown on stdout, and a `BENCH_JSON` line (bench/run.ts protocol).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { silentLogger } from '../src/log.ts';
import { openMirror } from '../src/mirror/openMirror.ts';
import { openStore } from '../src/mirror/openStore.ts';
import { eventId } from '../src/mirror/outbox.ts';
import { createRetabClient } from '../src/retab/client.ts';
import {
  deriveSource,
  documentTypeOf,
  jobFilenames,
  modelOf,
  projectId,
  workflowNodeId,
} from '../src/retab/jobFields.ts';
import type { Job } from '../src/retab/schemas.ts';
import { lastDays } from '../src/sync/partitions.ts';
import { syncOnce } from '../src/sync/syncOnce.ts';
import { copyFloorWriter, type PageWriter, withDatabase } from './pgBench.ts';

const DAYS = 30;
const PAGE = 100;
const here = fileURLToPath(new URL('.', import.meta.url));
const bin = fileURLToPath(new URL('../bin/retab-mirror.js', import.meta.url));

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    rss: { type: 'string' },
    quick: { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
    url: { type: 'string' },
    key: { type: 'string' },
    db: { type: 'string' },
    store: { type: 'string', default: 'sqlite' },
  },
});
if (values.store !== 'sqlite' && values.store !== 'postgres')
  throw new Error(`--store must be sqlite or postgres, not ${values.store}`);
const pgStore = values.store === 'postgres';

interface ChildResult {
  seconds: number;
  /** CPU seconds (user + system) of the sync process during the pass. */
  cpuS: number;
  requests: number;
  jobs: number;
  maxRssMiB: number;
  outcome: string;
}

/** The sync process: one pass with the history as day windows, as `retab-mirror sync --backfill-days 30`. */
async function childMain(): Promise<void> {
  const apiKey = values.key ?? '';
  const client = createRetabClient({ apiKey, baseUrl: values.url ?? '', maxRetries: 5 });
  // `openStore` is what `retab-mirror sync` opens for MIRROR_DB: a file path → SQLite, a URL → PostgreSQL.
  const mirror = await openStore(values.db ?? '');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const pass = await syncOnce(
    { client, mirror, logger: silentLogger },
    {
      pageSize: PAGE,
      payloadMode: 'request',
      overlapSeconds: 300,
      backfillDays: DAYS,
      activeStatuses: ['validating', 'queued', 'in_progress'],
      windowDays: lastDays(Date.now(), DAYS),
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  await mirror.close();
  const result: ChildResult = {
    seconds,
    cpuS: (cpu.user + cpu.system) / 1e6,
    requests: pass.totals.requests,
    jobs: Object.values(pass.jobsByStatus).reduce<number>((a, b) => a + (b ?? 0), 0),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    outcome: pass.outcome === 'success' ? 'success' : `${pass.outcome}: ${pass.error}`,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

interface Sim {
  url: string;
  key: string;
  proc: ChildProcess;
}

/** The simulator as its own process (`retab-mirror simulator`), its URL and key read from its stdout. */
async function startSim(jobs: number): Promise<Sim> {
  const proc = spawn(
    process.execPath,
    [bin, 'simulator', '--jobs', String(jobs), '--days', String(DAYS), '--seed', '1', '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const env: Record<string, string> = {};
  const lines = createInterface({ input: proc.stdout as NonNullable<typeof proc.stdout> });
  for await (const line of lines) {
    const m = /^(RETAB_BASE_URL|RETAB_API_KEY)=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) env[m[1]] = m[2];
    if (env.RETAB_BASE_URL && env.RETAB_API_KEY) break;
  }
  if (!env.RETAB_BASE_URL || !env.RETAB_API_KEY)
    throw new Error('the simulator did not print its URL and key');
  return { url: env.RETAB_BASE_URL, key: env.RETAB_API_KEY, proc };
}

async function stopSim(sim: Sim): Promise<void> {
  const exited = new Promise((resolve) => sim.proc.once('exit', resolve));
  sim.proc.kill('SIGTERM');
  await exited;
}

function runChild(sim: Sim, db: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', `${here}backfill.ts`, '--child', '--url', sim.url, '--key', sim.key, '--db', db],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`sync child exited with ${code}`);
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as ChildResult);
      } catch (err) {
        reject(err);
      }
    });
  });
}

const INSERT = `INSERT INTO jobs (id, status, endpoint, source, created_at, started_at, completed_at, expires_at,
  organization_id, project_id, workflow_id, workflow_node_id, model, error_code, error_message, metadata,
  request, error, has_request, first_seen_at, last_seen_at, observed_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`;

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

function rowOf(j: Job, at: number): unknown[] {
  const meta = j.metadata ?? null;
  const req = j.request ?? null;
  return [
    j.id,
    j.status,
    j.endpoint,
    deriveSource(meta, req),
    j.created_at,
    j.started_at ?? null,
    j.completed_at ?? null,
    j.expires_at,
    j.organization_id,
    projectId(req),
    meta?.workflow_id ?? null,
    workflowNodeId(meta),
    modelOf(req),
    j.error?.code ?? null,
    j.error?.message ?? null,
    json(meta),
    json(req),
    json(j.error),
    at,
    at,
    at,
  ];
}

/** SQLite's write floor: raw prepared INSERTs into a fresh mirror file, one transaction per page. */
function sqliteFloorWriter(db: string): PageWriter {
  const mirror = openMirror(db);
  const insert = mirror.sqlite.prepare(INSERT);
  const insertFile = mirror.sqlite.prepare(
    `INSERT INTO job_files (job_seq, job_id, position, filename, document_type)
      VALUES (?, ?, ?, ?, ?)`,
  );
  const insertMeta = mirror.sqlite.prepare(
    'INSERT INTO job_metadata (job_seq, job_id, key, value) VALUES (?, ?, ?, ?)',
  );
  const insertEvent = mirror.sqlite.prepare(`INSERT INTO job_events (event_id, type, job_id, from_status,
    to_status, occurred_at, observed_at, inferred, backfill, payload) VALUES (?, 'job.discovered', ?, NULL, ?, ?, ?, 0, 1, ?)`);
  const writePage = mirror.sqlite.transaction((jobs: Job[], at: number) => {
    for (const j of jobs) {
      const seq = insert.run(...rowOf(j, at)).lastInsertRowid;
      jobFilenames(j.request).forEach((name, i) => {
        insertFile.run(seq, j.id, i, name, documentTypeOf(name));
      });
      for (const [k, v] of Object.entries(j.metadata ?? {})) insertMeta.run(seq, j.id, k, v);
      const occurred = j.created_at * 1000;
      insertEvent.run(
        eventId(j.id, 'job.discovered', null, j.status, occurred),
        j.id,
        j.status,
        occurred,
        at,
        JSON.stringify({ job: { ...j, request: null }, from: null, to: j.status }),
      );
    }
  });
  return {
    write: async (jobs, at) => writePage(jobs, at),
    close: async () => mirror.close(),
  };
}

/** The write floor of the store under test, on a fresh `db` (a file path, or an empty database's URL). */
async function floorWriter(db: string): Promise<PageWriter> {
  if (!pgStore) return sqliteFloorWriter(db);
  await (await openStore(db)).close(); // the store's own schema, indexes and extensions
  return copyFloorWriter(db);
}

/** Both floors in one walk over the same pages: fetch+parse timed apart from the raw insert. */
async function floors(
  sim: Sim,
  db: string,
): Promise<{ fetchS: number; writeS: number; pages: number; jobs: number }> {
  const writer = await floorWriter(db);
  let fetchMs = 0;
  let writeMs = 0;
  let pages = 0;
  let jobs = 0;
  for (const day of lastDays(Date.now(), DAYS)) {
    let after: string | null = null;
    for (;;) {
      const q = new URLSearchParams({ from_date: day, to_date: day, order: 'asc', limit: String(PAGE) });
      q.set('include_request', 'true');
      if (after) q.set('after', after);
      const t0 = performance.now();
      const res = await fetch(`${sim.url}/jobs?${q}`, { headers: { 'Api-Key': sim.key } });
      const page = JSON.parse(await res.text()) as { data: Job[]; last_id: string | null; has_more: boolean };
      const t1 = performance.now();
      await writer.write(page.data, Date.now());
      writeMs += performance.now() - t1;
      fetchMs += t1 - t0;
      pages++;
      jobs += page.data.length;
      if (!page.has_more || !page.last_id) break;
      after = page.last_id;
    }
  }
  await writer.close();
  return { fetchS: fetchMs / 1000, writeS: writeMs / 1000, pages, jobs };
}

async function main(): Promise<void> {
  const total = Number(values.jobs ?? (values.quick ? 20_000 : 200_000));
  const rssDefault = pgStore ? '' : values.quick ? '20000,50000' : '20000,100000,1000000';
  const rssSizes = (values.rss ?? rssDefault).split(',').filter(Boolean).map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'retab-bench-backfill-'));
  /** A fresh mirror location for `fn`: a new file, or a new PostgreSQL database dropped afterwards. */
  const fresh = <T>(name: string, fn: (db: string) => Promise<T>): Promise<T> =>
    pgStore ? withDatabase(fn) : fn(join(dir, `${name}.db`));
  const scaling: { jobs: number; seconds: number; rssMiB: number }[] = [];
  const out: string[] = [];
  try {
    const sim = await startSim(total);
    let sync: ChildResult;
    let floor: Awaited<ReturnType<typeof floors>>;
    try {
      // Sync first: if the simulator warms up, the floors (measured second) get the benefit.
      sync = await fresh(`sync-${total}`, (db) => runChild(sim, db));
      floor = await fresh(`floor-${total}`, (db) => floors(sim, db));
    } finally {
      await stopSim(sim);
    }
    scaling.push({ jobs: sync.jobs, seconds: sync.seconds, rssMiB: sync.maxRssMiB });
    const larger = Math.max(floor.fetchS, floor.writeS);
    const ratio = sync.seconds / larger;
    out.push(
      `Cold backfill of ${total.toLocaleString('en-US')} jobs over ${DAYS} days, with requests, pages of ${PAGE}, into ${pgStore ? 'PostgreSQL (a fresh database each)' : 'SQLite'}; simulator in its own process.`,
      '',
      '| | seconds | jobs/s |',
      '|---|---:|---:|',
      `| fetch floor (fetch + JSON.parse, ${floor.pages} pages, sequential) | ${floor.fetchS.toFixed(1)} | ${Math.round(floor.jobs / floor.fetchS)} |`,
      `| write floor (${pgStore ? 'COPY' : 'raw INSERTs'} of the same rows: jobs, files, metadata, events; one transaction per page) | ${floor.writeS.toFixed(1)} | ${Math.round(floor.jobs / floor.writeS)} |`,
      `| fetch + write, one after the other | ${(floor.fetchS + floor.writeS).toFixed(1)} | ${Math.round(floor.jobs / (floor.fetchS + floor.writeS))} |`,
      `| **sync** (${sync.requests} requests, ${sync.jobs} jobs mirrored, ${sync.outcome}; ${sync.cpuS.toFixed(1)} s CPU) | **${sync.seconds.toFixed(1)}** | ${Math.round(sync.jobs / sync.seconds)} |`,
      '',
      `sync / max(floors) = **${ratio.toFixed(2)}×** (target ≤ 1.3×): ${ratio <= 1.3 ? 'met' : 'NOT met'}.`,
      '',
    );

    const rss: { jobs: number; rssMiB: number; seconds: number }[] = [];
    for (const n of rssSizes) {
      const s = await startSim(n);
      try {
        const r = await fresh(`rss-${n}`, (db) => runChild(s, db));
        rss.push({ jobs: n, rssMiB: r.maxRssMiB, seconds: r.seconds });
        if (n !== total) scaling.push({ jobs: r.jobs, seconds: r.seconds, rssMiB: r.maxRssMiB });
      } finally {
        await stopSim(s);
      }
    }
    // The two largest sizes: memory must not grow with history.
    const [a, b] = [...rss].sort((x, y) => x.jobs - y.jobs).slice(-2);
    if (rss.length > 0)
      out.push(
        'Peak RSS of the sync process (maxRSS of a child running the same pass):',
        '',
        '| jobs | peak RSS (MiB) | seconds |',
        '|---:|---:|---:|',
        ...rss.map(
          (r) => `| ${r.jobs.toLocaleString('en-US')} | ${r.rssMiB.toFixed(0)} | ${r.seconds.toFixed(1)} |`,
        ),
        '',
      );
    if (a && b) {
      const growth = b.rssMiB / a.rssMiB;
      out.push(
        `RSS ${b.jobs.toLocaleString('en-US')} / ${a.jobs.toLocaleString('en-US')} = **${growth.toFixed(2)}×** (target ≤ 1.1×): ${growth <= 1.1 ? 'met' : 'NOT met'}.`,
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);
    process.stdout.write(`BENCH_JSON ${JSON.stringify({ scaling })}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.child) await childMain();
else await main();
