/**
 * bench/queries.ts on PostgreSQL: the same cases (values drawn the same way from the same mirror) answered
 * by `queryJobsPg`, against
 *  - the best hand-written SQL on PostgreSQL for the same page (same ids checked): per value, the faster of
 *    driving from the side table and walking the listing; for filename rows, with the pg_trgm index on the
 *    folded name (`LIKE '%needle%'`, `~ '^(?:pattern)$'` lower-cased) — the indexed oracle;
 *  - SQLite's `queryJobs` on the source mirror, in the same run (the store must not make a query slower);
 *  - paging the API and filtering in memory (per-page latency measured on a simulator over loopback, scaled
 *    by the pages the same answer needs, counted on the mirror), as in bench/queries.ts.
 *
 * `npx tsx bench/queriesPg.ts [--jobs N]` (default 1,000,000). The SQLite mirror is bench/queries.ts's
 * (bench/.tmp/queries-N-seed7.db; run that first); it is copied into the PostgreSQL database
 * `retab_bench_queries_N` on BENCH_PG_URL's server (default postgres://postgres@127.0.0.1:5432/postgres)
 * with copyMirror — once: a later run reuses it, an interrupted copy resumes — then ANALYZEd.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type Mirror, openMirror } from '../src/mirror/openMirror.ts';
import { copyMirror } from '../src/mirror/pg/copyMirror.ts';
import { openPgMirror } from '../src/mirror/pg/openPgMirror.ts';
import { queryJobsPg } from '../src/mirror/pg/queryJobsPg.ts';
import { foldedFilename } from '../src/mirror/pg/schema.ts';
import { queryJobs, registerQueryFunctions } from '../src/mirror/queryJobs.ts';
import { parseListQuery } from '../src/retab/params.ts';
import { startSimulator } from '../src/simulator/index.ts';
import { filenameIndexReady } from './filenameIndexReady.ts';

const args = process.argv.slice(2);
const N = args.includes('--jobs') ? Number(args[args.indexOf('--jobs') + 1]) : 1_000_000;
const SIM_N = Math.min(N, 20_000);
const SEED = 7;
const DAYS = 30;
const NOW = Date.parse('2026-11-01T12:00:00Z');
const LIMIT = 20;
const log = (msg: string) => process.stderr.write(`[queriesPg] ${msg}\n`);

const dbPath = fileURLToPath(new URL(`./.tmp/queries-${N}-seed${SEED}.db`, import.meta.url));
if (!existsSync(dbPath))
  throw new Error(`${dbPath} is missing: run npx tsx bench/queries.ts --jobs ${N} first`);
// SQLite answers in the same run, with its filename index as a real sync leaves it (caught up).
filenameIndexReady(dbPath);
const sqliteMirror: Mirror = openMirror(dbPath, { readonly: true });
const db = sqliteMirror.sqlite;
registerQueryFunctions(db);

// ---- the PostgreSQL copy, loaded once

const ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `retab_bench_queries_${N}`;
{
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount === 0) await c.query(`CREATE DATABASE ${name}`);
  await c.end();
}
const url = new URL(ADMIN);
url.pathname = `/${name}`;
const pgm = await openPgMirror(url.toString(), { poolSize: 4 });
const pool = pgm.pool;
const sqliteJobs = (db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
const pgJobs = async () => (await pool.query('SELECT count(*) AS n FROM jobs')).rows[0].n as number;
let loadLine = `reused the PostgreSQL copy in ${name}`;
if (
  (await pgJobs()) !== sqliteJobs ||
  (await pool.query('SELECT 1 FROM sync_state LIMIT 1')).rowCount === 0
) {
  const started = performance.now();
  let last = 0;
  const counts = await copyMirror(
    { kind: 'sqlite', mirror: sqliteMirror },
    { kind: 'postgres', mirror: pgm },
    {
      batch: 5000,
      onProgress: (p) => {
        if (performance.now() - last > 10_000) {
          last = performance.now();
          log(`copying ${p.table}: ${p.copied.toLocaleString()} / ${p.total.toLocaleString()}`);
        }
      },
    },
  );
  const copied = (performance.now() - started) / 1000;
  const t = performance.now();
  await pool.query('ANALYZE');
  loadLine = `loaded by copyMirror from the SQLite mirror in ${copied.toFixed(0)} s (${counts.jobs?.toLocaleString('en-US')} jobs, ${counts.job_files?.toLocaleString('en-US')} files, ${counts.job_metadata?.toLocaleString('en-US')} metadata pairs, ${counts.job_events?.toLocaleString('en-US')} events; ${Math.round((counts.jobs ?? 0) / copied).toLocaleString('en-US')} jobs/s), ANALYZE ${((performance.now() - t) / 1000).toFixed(0)} s`;
  log(loadLine);
}

// ---- the cases (drawn as bench/queries.ts draws them)

const FOLDED = foldedFilename('f.filename');
const COLS = `j.id, j.status, j.endpoint, j.created_at, j.started_at, j.completed_at, j.expires_at,
  j.organization_id, j.metadata, j.error, j.extra`;
const DESC = `ORDER BY j.created_at DESC, j.id DESC LIMIT ${LIMIT}`;
interface Variant {
  query: Record<string, string>;
  sql: string[];
  args: unknown[];
}
interface Case {
  name: string;
  needsRequest: boolean;
  variants: Variant[];
}
const sample = <T>(xs: T[], n: number): T[] =>
  xs.length <= n ? xs : Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)] as T);
const day = (s: number) => new Date(s * 1000).toISOString().slice(0, 10);
const per = 8;
const pairs = db
  .prepare('SELECT key, value, count(*) AS n FROM job_metadata GROUP BY key, value ORDER BY value')
  .all() as { key: string; value: string; n: number }[];
const names = (
  db.prepare('SELECT filename FROM job_files WHERE rowid % 997 = 0 ORDER BY rowid').all() as {
    filename: string;
  }[]
).map((r) => r.filename);
const stems = [...new Set(names.map((n) => n.split('_')[0] ?? n))].filter((s) => s.length >= 3).sort();
const span = db.prepare('SELECT min(created_at) AS lo, max(created_at) AS hi FROM jobs').get() as {
  lo: number;
  hi: number;
};
const metaSql = [
  `FROM job_metadata m JOIN jobs j ON j.seq = m.job_seq WHERE m.key = $1 AND m.value = $2 ${DESC}`,
  `FROM jobs j WHERE EXISTS (SELECT 1 FROM job_metadata m WHERE m.job_seq = j.seq AND m.key = $1 AND m.value = $2) ${DESC}`,
];
const fileSql = (cond: string) => [
  `FROM jobs j WHERE EXISTS (SELECT 1 FROM job_files f WHERE f.job_seq = j.seq AND ${cond}) ${DESC}`,
  `FROM jobs j WHERE j.seq IN (SELECT job_seq FROM job_files f WHERE ${cond}) ${DESC}`,
];
const like = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
const rare = (n: string) => n.replace(/^.*_(\d+)\..*$/, '$1');
const CASES: Case[] = [
  ...(['batch_id', 'customer'] as const).map((key) => ({
    name: key === 'batch_id' ? 'metadata, rare value (`batch_id`)' : 'metadata, common value (`customer`)',
    needsRequest: false,
    variants: sample(
      pairs.filter((p) => p.key === key && (key !== 'batch_id' || p.n >= 5)),
      per,
    ).map((p) => ({
      query: { metadata: JSON.stringify({ [p.key]: p.value }) },
      sql: metaSql,
      args: [p.key, p.value],
    })),
  })),
  {
    name: 'status + one UTC day',
    needsRequest: false,
    variants: Array.from({ length: per }, (_, i) => {
      const d = day(span.lo + Math.floor(((i + 0.5) * (span.hi - span.lo)) / per));
      const status = ['failed', 'cancelled', 'completed'][i % 3] as string;
      const start = Date.parse(`${d}T00:00:00Z`) / 1000;
      return {
        query: { status, from_date: d, to_date: d },
        sql: [`FROM jobs j WHERE j.status = $1 AND j.created_at >= $2 AND j.created_at < $3 ${DESC}`],
        args: [status, start, start + 86_400],
      };
    }),
  },
  {
    name: 'source',
    needsRequest: true,
    variants: ['api', 'project', 'workflow'].map((source) => ({
      query: { source },
      sql: [`FROM jobs j WHERE j.source = $1 ${DESC}`],
      args: [source],
    })),
  },
  {
    name: 'filename_regex, common (`stem_\\d{4}_\\d+\\.\\w+`)',
    needsRequest: true,
    variants: sample(stems, per).map((stem) => {
      const re = `${stem}_\\d{4}_\\d+\\.\\w+`;
      return {
        query: { filename_regex: re },
        sql: fileSql(`${FOLDED} ~ $1`),
        args: [`^(?:${re.toLowerCase()})$`],
      };
    }),
  },
  {
    name: 'filename_regex, rare (`.*_NNNNN\\.pdf`)',
    needsRequest: true,
    variants: sample(names, per / 2).map((n) => {
      const re = `.*_${rare(n)}\\.pdf`;
      return { query: { filename_regex: re }, sql: fileSql(`${FOLDED} ~ $1`), args: [`^(?:${re})$`] };
    }),
  },
  {
    name: 'filename_contains, common (a stem)',
    needsRequest: true,
    variants: sample(stems, per).map((stem) => ({
      query: { filename_contains: stem.toUpperCase() },
      sql: fileSql(`${FOLDED} LIKE $1`),
      args: [like(stem)],
    })),
  },
  {
    name: 'filename_contains, rare (`_NNNNN.`)',
    needsRequest: true,
    variants: sample(names, per / 2).map((n) => {
      const frag = `_${rare(n)}.`;
      return { query: { filename_contains: frag }, sql: fileSql(`${FOLDED} LIKE $1`), args: [like(frag)] };
    }),
  },
];

// ---- measuring

async function timeIt<T>(fn: () => T | Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};
interface Row {
  name: string;
  mine: number[];
  hand: number[];
  sqlite: number[];
  scanned: number;
  needsRequest: boolean;
}
const positionStmt = db.prepare('SELECT count(*) AS n FROM jobs WHERE (created_at, id) >= (?, ?)');
const rows: Row[] = [];
for (const c of CASES) {
  const row: Row = { name: c.name, mine: [], hand: [], sqlite: [], scanned: 0, needsRequest: c.needsRequest };
  for (const v of c.variants) {
    const parsed = parseListQuery({ ...v.query, limit: String(LIMIT) });
    if (!parsed.ok) throw new Error(`bad bench query ${JSON.stringify(v.query)}`);
    const [first, page] = await timeIt(() => queryJobsPg(pool, parsed.params));
    const ids = JSON.stringify(page.data.map((j) => j.id));
    if (JSON.stringify(queryJobs(sqliteMirror, parsed.params).data.map((j) => j.id)) !== ids)
      throw new Error(
        `${c.name}: queryJobsPg and SQLite's queryJobs disagree for ${JSON.stringify(v.query)}`,
      );
    let best: { text: string; ms: number } | undefined;
    for (const body of v.sql) {
      const text = `SELECT ${COLS} ${body}`;
      const [ms, out] = await timeIt(() => pool.query(text, v.args));
      if (JSON.stringify(out.rows.map((r) => r.id)) !== ids)
        throw new Error(`${c.name}: queryJobsPg and the hand SQL disagree for ${JSON.stringify(v.query)}`);
      if (!best || ms < best.ms) best = { text, ms };
    }
    if (!best) throw new Error('no hand SQL');
    const reps = first > 200 ? 2 : first > 20 ? 4 : 12;
    for (let r = 0; r < reps; r++) {
      row.mine.push((await timeIt(() => queryJobsPg(pool, parsed.params)))[0]);
      const text = best.text;
      row.hand.push((await timeIt(() => pool.query(text, v.args)))[0]);
      row.sqlite.push((await timeIt(() => queryJobs(sqliteMirror, parsed.params)))[0]);
    }
    const lastJob = page.data[LIMIT - 1];
    const pos = lastJob ? (positionStmt.get(lastJob.created_at, lastJob.id) as { n: number }).n : N;
    row.scanned += pos / c.variants.length;
  }
  rows.push(row);
  log(
    `${c.name}: PG p50 ${pct(row.mine, 50).toFixed(2)} ms vs hand ${pct(row.hand, 50).toFixed(2)} ms; SQLite ${pct(row.sqlite, 50).toFixed(2)} ms`,
  );
}

async function pageLatencyMs(sim: Awaited<ReturnType<typeof startSimulator>>, withRequest: boolean) {
  let after: string | null = null;
  let pages = 0;
  const started = performance.now();
  do {
    const qs = new URLSearchParams({ limit: '100', ...(withRequest ? { include_request: 'true' } : {}) });
    if (after) qs.set('after', after);
    const res = await fetch(`${sim.url}/jobs?${qs}`, { headers: { 'Api-Key': sim.apiKey } });
    const body = (await res.json()) as { data: unknown[]; has_more: boolean; last_id: string | null };
    pages++;
    after = body.has_more ? body.last_id : null;
  } while (after);
  return (performance.now() - started) / pages;
}
log(`paging a ${SIM_N.toLocaleString()}-job simulator 100 at a time`);
const sim = await startSimulator({ seed: SEED, jobs: SIM_N, days: DAYS, now: NOW });
const light = await pageLatencyMs(sim, false);
const heavy = await pageLatencyMs(sim, true);
await sim.close();

// ---- report

const size = async (q: string) => (await pool.query(q)).rows[0].n as number;
const trgm = await size("SELECT pg_relation_size('job_files_filename_trgm_idx') AS n");
const files = await size("SELECT pg_total_relation_size('job_files') AS n");
const whole = await size('SELECT pg_database_size(current_database()) AS n');
const mib = (b: number) => (b / 1048576).toFixed(1);
const f = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const x = (r: number) => (r >= 100 ? `${Math.round(r).toLocaleString('en-US')}×` : `${r.toFixed(1)}×`);
const lines = [
  `PostgreSQL ${(await pool.query('SHOW server_version')).rows[0].server_version}, ${N.toLocaleString('en-US')} mirrored jobs (seed ${SEED}, ${DAYS} days), one page of ${LIMIT}, newest first; times in ms. ${loadLine}.`,
  '',
  '| query | queryJobsPg p50 / p95 | hand SQL (PG) p50 / p95 | ratio p50 | SQLite queryJobs p50 (same run) | client-side paging, est. | queryJobsPg faster by |',
  '|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const docsMs = Math.max(1, Math.ceil(r.scanned / 100)) * (r.needsRequest ? heavy : light);
  const p50 = pct(r.mine, 50);
  lines.push(
    `| ${r.name} | ${f(p50)} / ${f(pct(r.mine, 95))} | ${f(pct(r.hand, 50))} / ${f(pct(r.hand, 95))} | ${x(p50 / pct(r.hand, 50))} | ${f(pct(r.sqlite, 50))} | ${(docsMs / 1000).toFixed(docsMs >= 10_000 ? 0 : 2)} s (${Math.ceil(r.scanned / 100).toLocaleString('en-US')} pages) | ${x(docsMs / p50)} |`,
  );
}
lines.push(
  '',
  `Client-side paging: ${light.toFixed(1)} ms/page without requests, ${heavy.toFixed(1)} ms/page with \`include_request\`, measured on a ${SIM_N.toLocaleString('en-US')}-job simulator over loopback.`,
  '',
  `pg_trgm filename index on disk (pg_relation_size('job_files_filename_trgm_idx')): ${mib(trgm)} MiB (${(trgm / N).toFixed(0)} B per job); job_files with all its indexes ${mib(files)} MiB; the whole database ${mib(whole)} MiB (${((100 * trgm) / whole).toFixed(1)}%).`,
);
process.stdout.write(`${lines.join('\n')}\n`);
await pgm.close();
sqliteMirror.close();
