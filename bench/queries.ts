/**
 * Offline queries on a large mirror: `queryJobs` (one page of 20, newest first) against
 *  - the best hand-written indexed SQL for the same page (same ids checked; reading the same columns, and
 *    ids only): per value, the faster of driving from the side table and walking the listing — an oracle
 *    for what `queryJobs` has to work out by itself;
 *  - the documented client-side approach: page the upstream 100 at a time over HTTP, newest first, and
 *    filter in memory until the page is full (or the listing ends). Its per-page latency is measured on a
 *    smaller simulator over loopback and scaled linearly by the pages the same answer needs at full size
 *    (counted exactly on the mirror).
 *
 * `npx tsx bench/queries.ts [--jobs N] [--quick]` (default 1,000,000 jobs; --quick: 100,000). The mirror is
 * built once into bench/.tmp/ (applyPage of the simulator's generated jobs, with requests) and reused.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { applyPage } from '../src/mirror/applyPage.ts';
import { type Mirror, openMirror } from '../src/mirror/openMirror.ts';
import { queryJobs, registerQueryFunctions } from '../src/mirror/queryJobs.ts';
import { parseListQuery } from '../src/retab/params.ts';
import { generateJobs, startSimulator, toJob } from '../src/simulator/index.ts';
import { filenameIndexReady } from './filenameIndexReady.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jobsArg = args.includes('--jobs') ? Number(args[args.indexOf('--jobs') + 1]) : undefined;
const N = jobsArg ?? (quick ? 100_000 : 1_000_000);
const SIM_N = Math.min(N, quick ? 20_000 : 100_000);
const SEED = 7;
const DAYS = 30;
const NOW = Date.parse('2026-11-01T12:00:00Z');
const LIMIT = 20;
const log = (msg: string) => process.stderr.write(`[queries] ${msg}\n`);

// ---- the mirror, built once

const dir = fileURLToPath(new URL('./.tmp/', import.meta.url));
const dbPath = `${dir}queries-${N}-seed${SEED}.db`;
const BUILT = 'bench:built';

/** A finished build of the current schema (an older or interrupted one is rebuilt). */
function isBuilt(path: string): boolean {
  if (!existsSync(path)) return false;
  let m: Mirror | undefined;
  try {
    m = openMirror(path, { readonly: true });
    return (
      m.sqlite.prepare("SELECT 1 FROM sync_state WHERE partition = ? AND status = 'done'").get(BUILT) !==
      undefined
    );
  } catch (err) {
    log(`rebuilding ${path}: ${(err as Error).message}`);
    return false;
  } finally {
    m?.close();
  }
}

function build(path: string): void {
  mkdirSync(dir, { recursive: true });
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  const started = Date.now();
  const recs = generateJobs(SEED, N, DAYS, NOW);
  const m = openMirror(path);
  const include = { includeRequest: true, includeResponse: false };
  for (let i = 0; i < recs.length; i += 2000) {
    const page = recs.slice(i, i + 2000).map((r) => toJob(r, 'org_bench', include));
    const last = i + 2000 >= recs.length;
    applyPage(m, page, {
      observedAt: Date.now(),
      backfill: true,
      ...(last ? { checkpoint: { partition: BUILT, status: 'done' as const } } : {}),
    });
    if ((i / 2000) % 50 === 0) log(`building: ${i.toLocaleString()} / ${N.toLocaleString()} jobs`);
  }
  m.close();
  log(`built ${N.toLocaleString()} jobs in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (!isBuilt(dbPath)) build(dbPath);
else log(`reusing ${dbPath}`);
{
  const t = Date.now();
  const n = filenameIndexReady(dbPath);
  if (n > 0)
    log(`filename index caught up: ${n.toLocaleString()} jobs in ${((Date.now() - t) / 1000).toFixed(0)} s`);
}
const mirror: Mirror = openMirror(dbPath, { readonly: true });
const db = mirror.sqlite;
registerQueryFunctions(db);

// ---- the cases

const COLS = `j.id, j.status, j.endpoint, j.created_at, j.started_at, j.completed_at, j.expires_at,
  j.organization_id, j.metadata, j.error, j.extra`;
const DESC = `ORDER BY j.created_at DESC, j.id DESC LIMIT ${LIMIT}`;

interface Variant {
  query: Record<string, string>;
  /** Hand-written SQL bodies after SELECT <cols> (the natural plans; the faster one is kept), and arguments. */
  sql: string[];
  args: unknown[];
}

interface Case {
  name: string;
  /** The client-side approach needs `include_request` to apply this filter in memory. */
  needsRequest: boolean;
  variants: Variant[];
}

const sample = <T>(xs: T[], n: number): T[] =>
  xs.length <= n ? xs : Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)] as T);
const day = (s: number) => new Date(s * 1000).toISOString().slice(0, 10);
const variantsPerCase = quick ? 5 : 8;

const pairs = db
  .prepare('SELECT key, value, count(*) AS n FROM job_metadata GROUP BY key, value ORDER BY value')
  .all() as { key: string; value: string; n: number }[];
const rareBatches = sample(
  pairs.filter((p) => p.key === 'batch_id' && p.n >= 5),
  variantsPerCase,
);
const customers = sample(
  pairs.filter((p) => p.key === 'customer'),
  variantsPerCase,
);
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

const metaSql = {
  drive: `FROM job_metadata m JOIN jobs j ON j.seq = m.job_seq WHERE m.key = ? AND m.value = ? ${DESC}`,
  walk: `FROM jobs j WHERE EXISTS (SELECT 1 FROM job_metadata m WHERE m.job_seq = j.seq AND m.key = ? AND m.value = ?) ${DESC}`,
};
/** Walk the listing probing each job's files, or scan job_files once and sort the matches. */
const fileSql = (cond: string) => [
  `FROM jobs j WHERE EXISTS (SELECT 1 FROM job_files f WHERE f.job_seq = j.seq AND ${cond}) ${DESC}`,
  `FROM jobs j WHERE j.seq IN (SELECT job_seq FROM job_files f WHERE ${cond}) ${DESC}`,
];

const CASES: Case[] = [
  {
    name: 'metadata, rare value (`batch_id`)',
    needsRequest: false,
    variants: rareBatches.map((p) => ({
      query: { metadata: JSON.stringify({ [p.key]: p.value }) },
      sql: [metaSql.drive, metaSql.walk],
      args: [p.key, p.value],
    })),
  },
  {
    name: 'metadata, common value (`customer`)',
    needsRequest: false,
    variants: customers.map((p) => ({
      query: { metadata: JSON.stringify({ [p.key]: p.value }) },
      sql: [metaSql.drive, metaSql.walk],
      args: [p.key, p.value],
    })),
  },
  {
    name: 'status + one UTC day',
    needsRequest: false,
    variants: Array.from({ length: variantsPerCase }, (_, i) => {
      const d = day(span.lo + Math.floor(((i + 0.5) * (span.hi - span.lo)) / variantsPerCase));
      const status = ['failed', 'cancelled', 'completed'][i % 3] as string;
      const start = Date.parse(`${d}T00:00:00Z`) / 1000;
      return {
        query: { status, from_date: d, to_date: d },
        sql: [`FROM jobs j WHERE j.status = ? AND j.created_at >= ? AND j.created_at < ? ${DESC}`],
        args: [status, start, start + 86_400],
      };
    }),
  },
  {
    name: 'source',
    needsRequest: true,
    variants: ['api', 'project', 'workflow'].map((source) => ({
      query: { source },
      sql: [`FROM jobs j WHERE j.source = ? ${DESC}`],
      args: [source],
    })),
  },
  {
    name: 'filename_regex, common (`stem_\\d{4}_\\d+\\.\\w+`)',
    needsRequest: true,
    variants: sample(stems, variantsPerCase).map((stem) => {
      const re = `${stem}_\\d{4}_\\d+\\.\\w+`;
      return { query: { filename_regex: re }, sql: fileSql('re2_match(?, f.filename)'), args: [re] };
    }),
  },
  {
    name: 'filename_regex, rare (`.*_NNNNN\\.pdf`)',
    needsRequest: true,
    variants: sample(names, Math.ceil(variantsPerCase / 2)).map((n) => {
      const re = `.*_${n.replace(/^.*_(\d+)\..*$/, '$1')}\\.pdf`;
      return { query: { filename_regex: re }, sql: fileSql('re2_match(?, f.filename)'), args: [re] };
    }),
  },
  {
    name: 'filename_contains, common (a stem)',
    needsRequest: true,
    variants: sample(stems, variantsPerCase).map((stem) => ({
      query: { filename_contains: stem.toUpperCase() },
      sql: fileSql('instr(lower(f.filename), ?) > 0'),
      args: [stem.toLowerCase()],
    })),
  },
  {
    name: 'filename_contains, rare (`_NNNNN.`)',
    needsRequest: true,
    variants: sample(names, Math.ceil(variantsPerCase / 2)).map((n) => {
      const frag = `_${n.replace(/^.*_(\d+)\..*$/, '$1')}.`;
      return {
        query: { filename_contains: frag },
        sql: fileSql('instr(lower(f.filename), ?) > 0'),
        args: [frag],
      };
    }),
  },
];

// ---- measuring

function timeIt(fn: () => unknown): [number, unknown] {
  const t = performance.now();
  const out = fn();
  return [performance.now() - t, out];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};

interface Row {
  name: string;
  mine: number[];
  /** queryJobs with the filename index turned off (the plan before it), filename rows only. */
  unindexed: number[];
  hand: number[];
  handIds: number[];
  /** Listing rows the client-side approach reads before its page is full (mean over variants). */
  scanned: number;
  needsRequest: boolean;
}

const positionStmt = db.prepare('SELECT count(*) AS n FROM jobs WHERE (created_at, id) >= (?, ?)');
const rows: Row[] = [];
for (const c of CASES) {
  const row: Row = {
    name: c.name,
    mine: [],
    unindexed: [],
    hand: [],
    handIds: [],
    scanned: 0,
    needsRequest: c.needsRequest,
  };
  for (const v of c.variants) {
    const parsed = parseListQuery({ ...v.query, limit: String(LIMIT) });
    if (!parsed.ok) throw new Error(`bad bench query ${JSON.stringify(v.query)}`);
    const [first, page] = timeIt(() => queryJobs(mirror, parsed.params));
    const ids = (page as ReturnType<typeof queryJobs>).data.map((j) => j.id);
    // The best hand-written query for this value: the faster of the natural plans (same ids checked).
    let best: { rows: Database.Statement; ids: Database.Statement; ms: number } | undefined;
    for (const body of v.sql) {
      const rows = db.prepare(`SELECT ${COLS} ${body}`);
      const [ms, out] = timeIt(() => rows.all(...v.args));
      const handIds = (out as { id: string }[]).map((r) => r.id);
      if (JSON.stringify(ids) !== JSON.stringify(handIds)) {
        throw new Error(`${c.name}: queryJobs and the hand SQL disagree for ${JSON.stringify(v.query)}`);
      }
      if (!best || ms < best.ms) best = { rows, ids: db.prepare(`SELECT j.id ${body}`), ms };
    }
    if (!best) throw new Error('no hand SQL');
    const { rows: handStmt, ids: idsStmt } = best;
    const reps = first > 200 ? 2 : first > 20 ? 4 : 12;
    for (let r = 0; r < reps; r++) {
      row.mine.push(timeIt(() => queryJobs(mirror, parsed.params))[0]);
      row.hand.push(timeIt(() => handStmt.all(...v.args))[0]);
      row.handIds.push(timeIt(() => idsStmt.all(...v.args))[0]);
    }
    if (c.needsRequest && c.name.startsWith('filename')) {
      const off = { useFilenameIndex: false };
      const [ms, out] = timeIt(() => queryJobs(mirror, parsed.params, off));
      if (
        JSON.stringify((out as ReturnType<typeof queryJobs>).data.map((j) => j.id)) !== JSON.stringify(ids)
      ) {
        throw new Error(`${c.name}: the indexed and unindexed plans disagree for ${JSON.stringify(v.query)}`);
      }
      row.unindexed.push(ms);
      if (ms < 200) row.unindexed.push(timeIt(() => queryJobs(mirror, parsed.params, off))[0]);
    }
    const last = (page as ReturnType<typeof queryJobs>).data[LIMIT - 1];
    const pos = last ? (positionStmt.get(last.created_at, last.id) as { n: number }).n : N;
    row.scanned += pos / c.variants.length;
  }
  rows.push(row);
  log(
    `${c.name}: p50 ${pct(row.mine, 50).toFixed(2)} ms vs hand ${pct(row.hand, 50).toFixed(2)} ms${row.unindexed.length > 0 ? `, without the index ${pct(row.unindexed, 50).toFixed(1)} ms` : ''}`,
  );
}

// ---- the client-side approach, on a smaller simulator over loopback

async function pageLatencyMs(sim: Awaited<ReturnType<typeof startSimulator>>, withRequest: boolean) {
  let after: string | null = null;
  let pages = 0;
  const started = performance.now();
  do {
    const qs = new URLSearchParams({ limit: '100', ...(withRequest ? { include_request: 'true' } : {}) });
    if (after) qs.set('after', after);
    const res = await fetch(`${sim.url}/jobs?${qs}`, { headers: { 'Api-Key': sim.apiKey } });
    const body = (await res.json()) as {
      data: { metadata: unknown }[];
      has_more: boolean;
      last_id: string | null;
    };
    // Filtering in memory is part of the approach (negligible next to the request).
    body.data.filter((j) => j.metadata !== null);
    pages++;
    after = body.has_more ? body.last_id : null;
  } while (after);
  return {
    perPage: (performance.now() - started) / pages,
    pages,
    seconds: (performance.now() - started) / 1000,
  };
}

log(`paging a ${SIM_N.toLocaleString()}-job simulator 100 at a time (with and without requests)`);
const sim = await startSimulator({ seed: SEED, jobs: SIM_N, days: DAYS, now: NOW });
const light = await pageLatencyMs(sim, false);
const heavy = await pageLatencyMs(sim, true);
await sim.close();

// ---- report

/** What the filename index costs on disk (dbstat: every page of the FTS5 table and its shadow tables). */
function diskLine(): string {
  const pages = db
    .prepare(
      "SELECT sum(pgsize) AS index_bytes, (SELECT sum(pgsize) FROM dbstat) AS all_bytes FROM dbstat WHERE name LIKE 'job_filenames_fts%'",
    )
    .get() as { index_bytes: number; all_bytes: number };
  const files = (db.prepare('SELECT count(*) AS n FROM job_files').get() as { n: number }).n;
  const mib = (b: number) => (b / 1048576).toFixed(1);
  return `Filename index on disk: ${mib(pages.index_bytes)} MiB for ${N.toLocaleString('en-US')} jobs (${files.toLocaleString('en-US')} filenames; ${(pages.index_bytes / N).toFixed(0)} B per job), ${((100 * pages.index_bytes) / pages.all_bytes).toFixed(1)}% of the ${mib(pages.all_bytes)} MiB mirror file.`;
}

const f = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const x = (r: number) => (r >= 100 ? `${Math.round(r).toLocaleString('en-US')}×` : `${r.toFixed(1)}×`);
const lines = [
  `${N.toLocaleString('en-US')} mirrored jobs (seed ${SEED}, ${DAYS} days), one page of ${LIMIT}, newest first; times in ms.`,
  '',
  '| query | queryJobs p50 / p95 | without the filename index p50 | hand SQL, same columns p50 / p95 | ratio p50 | hand SQL, ids only p50 | client-side paging, est. | queryJobs faster by |',
  '|---|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const perPage = r.needsRequest ? heavy.perPage : light.perPage;
  const docsMs = Math.max(1, Math.ceil(r.scanned / 100)) * perPage;
  const mine50 = pct(r.mine, 50);
  lines.push(
    `| ${r.name} | ${f(mine50)} / ${f(pct(r.mine, 95))} | ${r.unindexed.length > 0 ? f(pct(r.unindexed, 50)) : '—'} | ${f(pct(r.hand, 50))} / ${f(pct(r.hand, 95))} | ${x(mine50 / pct(r.hand, 50))} | ${f(pct(r.handIds, 50))} | ${(docsMs / 1000).toFixed(docsMs >= 10_000 ? 0 : 2)} s (${Math.ceil(r.scanned / 100).toLocaleString('en-US')} pages) | ${x(docsMs / mine50)} |`,
  );
}
const scale = N / SIM_N;
lines.push(
  '',
  `Client-side paging measured on a ${SIM_N.toLocaleString('en-US')}-job simulator over loopback: ${light.pages} pages of 100 in ${light.seconds.toFixed(1)} s (${light.perPage.toFixed(1)} ms/page) without requests, ${heavy.seconds.toFixed(1)} s (${heavy.perPage.toFixed(1)} ms/page) with \`include_request\` (needed to filter by source or filename). Scaled linearly: a full pass over ${N.toLocaleString('en-US')} jobs ≈ ${(light.seconds * scale).toFixed(0)} s / ${(heavy.seconds * scale).toFixed(0)} s. The estimate per query is the pages that approach reads before its page of ${LIMIT} is full (counted on the mirror) × that per-page time; real Retab adds WAN latency, so these are lower bounds.`,
  '',
  'Hand SQL is, for each value, the faster of the natural hand-written plans (drive from the side table, or walk the listing probing it), with the same ids checked: an oracle that knows which plan wins. "Same columns" reads what a page needs; "ids only" is the covering-index floor. For the filename rows the hand SQL uses no index (walk probing each job, or one pass over job_files): it is the oracle of the plan without the filename index, which queryJobs now beats.',
  '',
  diskLine(),
);
process.stdout.write(`${lines.join('\n')}\n`);
mirror.close();
