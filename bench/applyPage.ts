/**
 * applyPage throughput vs the floor of what SQLite can take, measured in the same run on fresh temp files.
 *
 *   npx tsx bench/applyPage.ts [--jobs 200000] [--page 100] [--quick]
 *
 * - applyPage: realistic jobs from the simulator's generator, with their requests (~1–3 KB), in pages of
 *   100, one transaction per page, the way the head sync writes them (rows + files + metadata + one
 *   `job.discovered` event per job), then the same pages again lightweight (the steady-state overlap: every
 *   row known and unchanged).
 * - floor of the same rows (the target's baseline): raw better-sqlite3 prepared INSERTs of every row applyPage
 *   writes for these jobs (jobs, files, metadata, one `job.discovered` event each), one transaction for
 *   everything, rows built outside the timer, so only SQLite's work is measured. Target: applyPage >= 50%.
 * - floor: the same, `jobs` rows only (same columns, same indexes), for reference.
 *   `floor+map` also times building the rows (JSON.stringify of the payloads, derived columns).
 *   `floor, one commit per page` is the same raw insert committed every 100 rows, applyPage's unit of
 *   durability: it shows what committing per page costs by itself.
 * - `applyPage, 10 pages per commit`: the same pages applied inside an outer transaction of 10 pages
 *   (applyPage nests as a savepoint), as a backfill that accepts redoing up to 10 pages after a crash could.
 *
 * - `store.jobs.applyPage (new jobs)`: the same pages as the first row through the store seam
 *   (`MirrorStore.jobs.applyPage`, awaited), the path every sync task takes: it must cost what applyPage does.
 *
 * Generating the jobs is never timed. Profile with: node --cpu-prof --import tsx bench/applyPage.ts --quick
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyPage, eventId, type Mirror, openMirror } from '../src/mirror/index.ts';
import { jobToRow } from '../src/mirror/jobToRow.ts';
import type { Job } from '../src/retab/schemas.ts';
import { generateJobs, type SimJob, toJob } from '../src/simulator/index.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    page: { type: 'string', default: '100' },
    quick: { type: 'boolean', default: false },
  },
});
const total = Number(values.jobs ?? (values.quick ? 20_000 : 200_000));
const pageSize = Number(values.page);
if (!Number.isInteger(total) || total <= 0) throw new Error('--jobs must be a positive integer');
if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new Error('--page must be 1..100');

const NOW = Date.UTC(2026, 10, 15);
const ORG = 'org_bench';
const records = generateJobs(42, total, 30, NOW);
const pages: SimJob[][] = [];
for (let i = 0; i < records.length; i += pageSize) pages.push(records.slice(i, i + pageSize));
const FULL = { includeRequest: true, includeResponse: false };
const LIGHT = { includeRequest: false, includeResponse: false };

const dir = mkdtempSync(join(tmpdir(), 'retab-bench-apply-'));
const open = (name: string): Mirror => openMirror(join(dir, name));
const gc = (globalThis as { gc?: () => void }).gc;

interface Timing {
  /** Wall-clock ms inside the timed sections. */
  ms: number;
  /** CPU ms (user + system) of this process inside the timed sections: steadier on a busy machine. */
  cpuMs: number;
  jobs: number;
}

/** Runs `fn`, adding its wall and CPU time to `t`. */
function timed<T>(t: Timing, fn: () => T): T {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = fn();
  t.ms += performance.now() - t0;
  const c = process.cpuUsage(c0);
  t.cpuMs += (c.user + c.system) / 1000;
  return out;
}

type FloorMode = 'insert' | 'map' | 'perPage' | 'allRows';

function floorInsert(mode: FloorMode): Timing {
  const includeMapping = mode === 'map';
  const m = open(`floor-${mode}.db`);
  const insert = m.sqlite.prepare(`INSERT INTO jobs (id, status, endpoint, source, created_at, started_at,
    completed_at, expires_at, organization_id, project_id, workflow_id, workflow_node_id, model, error_code,
    error_message, metadata, request, response, error, extra, has_request, has_response, first_seen_at,
    last_seen_at, observed_at, status_changed_at, upstream_missing_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const rowOf = (job: Job, at: number): unknown[] => {
    const d = jobToRow(job);
    return [
      d.id,
      d.status,
      d.endpoint,
      d.source,
      d.createdAt,
      d.startedAt,
      d.completedAt,
      d.expiresAt,
      d.organizationId,
      d.projectId,
      d.workflowId,
      d.workflowNodeId,
      d.model,
      d.errorCode,
      d.errorMessage,
      d.metadata,
      d.request,
      d.response,
      d.error,
      d.extra,
      d.request === null ? 0 : 1,
      d.response === null ? 0 : 1,
      at,
      at,
      at,
      at,
      null,
    ];
  };
  // `allRows`: every row applyPage writes for a new job — the jobs row, its files, its metadata pairs and
  // its `job.discovered` outbox event — with raw prepared INSERTs: the floor for the same data.
  const insertFile = m.sqlite.prepare(
    `INSERT INTO job_files (job_seq, job_id, position, filename, document_type)
      VALUES (?, ?, ?, ?, ?)`,
  );
  const insertMeta = m.sqlite.prepare(
    'INSERT INTO job_metadata (job_seq, job_id, key, value) VALUES (?, ?, ?, ?)',
  );
  const insertEvent =
    m.sqlite.prepare(`INSERT INTO job_events (event_id, type, job_id, from_status, to_status,
    occurred_at, observed_at, inferred, backfill, payload) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 1, ?)`);
  const derivedOf = (job: Job, at: number): ((seq: number | bigint) => void)[] => {
    const d = jobToRow(job);
    const out: ((seq: number | bigint) => void)[] = [];
    for (const f of d.files ?? [])
      out.push((seq) => insertFile.run(seq, d.id, f.position, f.filename, f.documentType));
    for (const [k, v] of Object.entries(job.metadata ?? {}))
      out.push((seq) => insertMeta.run(seq, d.id, k, v));
    const evId = eventId(d.id, 'job.discovered', null, d.status, d.createdAt * 1000);
    const payload = JSON.stringify({ job: { ...job, request: null } });
    out.push(() =>
      insertEvent.run(evId, 'job.discovered', d.id, null, d.status, d.createdAt * 1000, at, payload),
    );
    return out;
  };
  const t: Timing = { ms: 0, cpuMs: 0, jobs: 0 };
  const perPage = mode === 'perPage';
  if (!perPage) m.sqlite.exec('BEGIN');
  for (const [i, page] of pages.entries()) {
    const at = NOW + i;
    const wire = page.map((r) => toJob(r, ORG, FULL));
    let rows: unknown[][] = [];
    if (!includeMapping) rows = wire.map((j) => rowOf(j, at));
    const derived = mode === 'allRows' ? wire.map((j) => derivedOf(j, at)) : [];
    timed(t, () => {
      if (perPage) m.sqlite.exec('BEGIN');
      if (includeMapping) rows = wire.map((j) => rowOf(j, at));
      for (const [k, row] of rows.entries()) {
        const seq = insert.run(...row).lastInsertRowid;
        for (const write of derived[k] ?? []) write(seq);
      }
      if (perPage) m.sqlite.exec('COMMIT');
    });
    t.jobs += page.length;
  }
  if (!perPage) timed(t, () => m.sqlite.exec('COMMIT'));
  m.close();
  return t;
}

function applyPages(m: Mirror, include: typeof FULL, observedBase: number): Timing & { events: number } {
  const t = { ms: 0, cpuMs: 0, jobs: 0, events: 0 };
  for (const [i, page] of pages.entries()) {
    const wire = page.map((r) => toJob(r, ORG, include));
    const r = timed(t, () => applyPage(m, wire, { observedAt: observedBase + i, backfill: true }));
    t.jobs += page.length;
    t.events += r.events;
  }
  return t;
}

/** The first row's pages through the store seam, each awaited as a sync task awaits it. */
async function applyPagesViaStore(m: Mirror): Promise<Timing> {
  const t = { ms: 0, cpuMs: 0, jobs: 0 };
  for (const [i, page] of pages.entries()) {
    const wire = page.map((r) => toJob(r, ORG, FULL));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await m.jobs.applyPage(wire, { observedAt: NOW + i, backfill: true });
    t.ms += performance.now() - t0;
    const c = process.cpuUsage(c0);
    t.cpuMs += (c.user + c.system) / 1000;
    t.jobs += page.length;
  }
  return t;
}

/** The same, `group` pages per outer transaction (applyPage nests as a savepoint): what a backfill could do. */
function applyPagesGrouped(m: Mirror, group: number): Timing {
  const t = { ms: 0, cpuMs: 0, jobs: 0 };
  const tx = m.sqlite.transaction((batch: Job[][], base: number) => {
    for (const [k, wire] of batch.entries()) applyPage(m, wire, { observedAt: base + k, backfill: true });
  });
  for (let i = 0; i < pages.length; i += group) {
    const batch = pages.slice(i, i + group).map((page) => page.map((r) => toJob(r, ORG, FULL)));
    timed(t, () => tx.immediate(batch, NOW + i));
    t.jobs += batch.reduce((n, b) => n + b.length, 0);
  }
  return t;
}

const GROUP = 10;

const rate = (t: Timing) => Math.round(t.jobs / (t.ms / 1000));
const cpuRate = (t: Timing) => Math.round(t.jobs / (t.cpuMs / 1000));
const fmt = (n: number) => n.toLocaleString('en-US');

try {
  console.log(`jobs: ${fmt(total)} in ${fmt(pages.length)} pages of ${pageSize} (requests included)`);
  gc?.();
  const floor = floorInsert('insert');
  gc?.();
  const floorMap = floorInsert('map');
  gc?.();
  const floorPerPage = floorInsert('perPage');
  gc?.();
  const floorAll = floorInsert('allRows');
  gc?.();
  const m = open('apply.db');
  const first = applyPages(m, FULL, NOW);
  gc?.();
  const again = applyPages(m, LIGHT, NOW + 10_000_000);
  const derived = m.sqlite
    .prepare('SELECT (SELECT count(*) FROM job_files) f, (SELECT count(*) FROM job_metadata) k')
    .get() as {
    f: number;
    k: number;
  };
  m.close();
  gc?.();
  const mg = open('apply-grouped.db');
  const grouped = applyPagesGrouped(mg, GROUP);
  mg.close();
  gc?.();
  const ms = open('apply-store.db');
  const viaStore = await applyPagesViaStore(ms);
  ms.close();

  const line = (label: string, t: Timing, extra = '') =>
    console.log(
      `${label.padEnd(36)} ${(t.ms / 1000).toFixed(2).padStart(7)} s ${fmt(rate(t)).padStart(9)} jobs/s` +
        `   cpu ${(t.cpuMs / 1000).toFixed(2).padStart(6)} s ${fmt(cpuRate(t)).padStart(9)} jobs/cpu-s${extra}`,
    );
  line('floor (raw INSERT, rows prebuilt)', floor);
  line('floor+map (raw INSERT + row build)', floorMap);
  line('floor, one commit per page', floorPerPage);
  line('floor, same rows (jobs+files+metadata+events)', floorAll);
  line(
    'applyPage (new jobs)',
    first,
    `  events ${fmt(first.events)}, files ${fmt(derived.f)}, metadata ${fmt(derived.k)}`,
  );
  line('applyPage (same pages, lightweight)', again, `  events ${fmt(again.events)}`);
  line(`applyPage, ${GROUP} pages per commit`, grouped);
  line('store.jobs.applyPage (new jobs)', viaStore);
  const pct = (a: number, b: number) => `${Math.round((100 * a) / b)}%`;
  console.log(
    `applyPage / floor of the same rows (jobs+files+metadata+events, one transaction): wall ${pct(rate(first), rate(floorAll))}, cpu ${pct(cpuRate(first), cpuRate(floorAll))}   (target >= 50%)`,
  );
  console.log(
    `for reference, against the jobs rows alone (applyPage writes ${((first.jobs + derived.f + derived.k + first.events) / first.jobs).toFixed(1)}x as many rows): wall ${pct(rate(first), rate(floor))}, cpu ${pct(cpuRate(first), cpuRate(floor))}` +
      `; with the row build timed: wall ${pct(rate(first), rate(floorMap))}, cpu ${pct(cpuRate(first), cpuRate(floorMap))}`,
  );
  console.log(
    `store.jobs.applyPage / floor of the same rows: wall ${pct(rate(viaStore), rate(floorAll))}, cpu ${pct(cpuRate(viaStore), cpuRate(floorAll))}`,
  );
  console.log(
    `applyPage / floor committed per page (same durability unit): wall ${pct(rate(first), rate(floorPerPage))}, cpu ${pct(cpuRate(first), cpuRate(floorPerPage))}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
