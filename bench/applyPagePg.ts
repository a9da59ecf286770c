/**
 * The PostgreSQL write path vs its floor, and vs SQLite's, measured in the same run on fresh databases.
 *
 *   npx tsx bench/applyPagePg.ts [--jobs 20000] [--page 100]   (PG_BENCH_URL: the server, default local trust)
 *   BENCH_NO_TRGM=1 …   the same without the filename trigram index (what the index costs the writes)
 *
 * - applyPagePg: the simulator's jobs with their requests, pages of 100, one transaction per page (rows,
 *   files, metadata, one `job.discovered` event each, checkpoint), as a cold backfill writes them; then the
 *   same pages again lightweight (steady state: every row known and unchanged, only seen/observed times move).
 * - floor: the same rows inserted per page with the same set-based statements (`INSERT … SELECT FROM
 *   unnest`) and nothing else: no job locks, no read of the stored rows, no merge, no outbox lock; rows built
 *   outside the timer. (The floor, `COPY`, is bench/backfill.ts --store postgres's: bench/pgBench.ts.)
 * - applyPage (SQLite), same pages, a fresh file: the reference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyPage, eventId, openMirror } from '../src/mirror/index.ts';
import { jobToRow } from '../src/mirror/jobToRow.ts';
import { payloadJson } from '../src/mirror/outbox.ts';
import { applyPagePg, pushRow } from '../src/mirror/pg/applyPagePg.ts';
import { openPgMirror } from '../src/mirror/pg/openPgMirror.ts';
import type { Job } from '../src/retab/schemas.ts';
import { generateJobs, toJob } from '../src/simulator/index.ts';
import { withDatabase } from './pgBench.ts';

const { values } = parseArgs({
  options: { jobs: { type: 'string' }, page: { type: 'string', default: '100' } },
});
const total = Number(values.jobs ?? 20_000);
const pageSize = Number(values.page);
const NOW = Date.UTC(2026, 10, 15);
const records = generateJobs(42, total, 30, NOW);
const pages: Job[][] = [];
for (let i = 0; i < records.length; i += pageSize)
  pages.push(
    records
      .slice(i, i + pageSize)
      .map((r) => toJob(r, 'org_bench', { includeRequest: true, includeResponse: false })),
  );

const T0 = 1_795_000_000_000;
const results: Record<string, number> = {};
const time = async (label: string, fn: () => Promise<void> | void) => {
  const t = performance.now();
  await fn();
  results[label] = performance.now() - t;
};

await withDatabase(async (url) => {
  const m = await openPgMirror(url, { poolSize: 2 });
  if (process.env.BENCH_NO_TRGM) await m.pool.query('DROP INDEX job_files_filename_trgm_idx');
  await time('applyPagePg, cold', async () => {
    for (const [i, p] of pages.entries())
      await applyPagePg(m.pool, p, {
        observedAt: T0 + i,
        payloads: { request: true },
        checkpoint: { partition: 'head', cursor: p[p.length - 1]?.id ?? null, pagesDelta: 1 },
      });
  });
  const light = pages.map((p) => p.map((j) => ({ ...j, request: null, response: null })));
  await time('applyPagePg, steady (known, unchanged)', async () => {
    for (const [i, p] of light.entries()) await applyPagePg(m.pool, p, { observedAt: T0 + 1e7 + i });
  });
  await m.close();
});

await withDatabase(async (url) => {
  const m = await openPgMirror(url, { poolSize: 2 });
  if (process.env.BENCH_NO_TRGM) await m.pool.query('DROP INDEX job_files_filename_trgm_idx');
  // Rows built outside the timer.
  const built = pages.map((p) =>
    p.map((job) => {
      const d = jobToRow(job);
      const snapshot = JSON.stringify(job);
      return {
        d,
        event: [
          eventId(d.id, 'job.discovered', null, d.status, d.createdAt * 1000),
          payloadJson(snapshot, null, d.status, false, false, T0),
        ] as const,
      };
    }),
  );
  await time('floor: same rows, set-based inserts only', async () => {
    const c = await m.pool.connect();
    try {
      for (const page of built) {
        await c.query('BEGIN');
        const r = await c.query<{ seq: number }>(
          `INSERT INTO jobs (id, status, endpoint, source, created_at, started_at, completed_at, expires_at, organization_id,
             project_id, workflow_id, workflow_node_id, model, metadata, request, error, extra, has_request,
             first_seen_at, last_seen_at, observed_at, status_changed_at)
           SELECT *, true, $14::bigint, $14::bigint, $14::bigint, $14::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
             $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
             $15::text[], $16::text[], $17::text[], $18::text[]) RETURNING seq`,
          [
            page.map((x) => x.d.id),
            page.map((x) => x.d.status),
            page.map((x) => x.d.endpoint),
            page.map((x) => x.d.source),
            page.map((x) => x.d.createdAt),
            page.map((x) => x.d.startedAt),
            page.map((x) => x.d.completedAt),
            page.map((x) => x.d.expiresAt),
            page.map((x) => x.d.organizationId),
            page.map((x) => x.d.projectId),
            page.map((x) => x.d.workflowId),
            page.map((x) => x.d.workflowNodeId),
            page.map((x) => x.d.model),
            T0,
            page.map((x) => x.d.metadata),
            page.map((x) => x.d.request),
            page.map((x) => x.d.error),
            page.map((x) => x.d.extra),
          ],
        );
        const f: unknown[][] = [[], [], [], [], []];
        const md: unknown[][] = [[], [], [], []];
        page.forEach((x, i) => {
          const seq = r.rows[i]?.seq;
          for (const file of x.d.files ?? [])
            pushRow(f, [seq, x.d.id, file.position, file.filename, file.documentType]);
          for (const [k, v] of x.d.metadataPairs) pushRow(md, [seq, x.d.id, k, v]);
        });
        await c.query(
          'INSERT INTO job_files SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::text[])',
          f,
        );
        if ((md[0]?.length ?? 0) > 0)
          await c.query(
            'INSERT INTO job_metadata SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])',
            md,
          );
        await c.query(
          `INSERT INTO job_events (event_id, type, job_id, from_status, to_status, occurred_at, observed_at, payload)
           SELECT e, 'job.discovered', j, NULL, s, o, $5, p FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $6::text[]) AS t(e, j, s, o, p)`,
          [
            page.map((x) => x.event[0]),
            page.map((x) => x.d.id),
            page.map((x) => x.d.status),
            page.map((x) => x.d.createdAt * 1000),
            T0,
            page.map((x) => x.event[1]),
          ],
        );
        await c.query('COMMIT');
      }
    } finally {
      c.release();
    }
  });
  await m.close();
});

const dir = mkdtempSync(join(tmpdir(), 'retab-bench-pg-'));
try {
  const lite = openMirror(join(dir, 'm.db'));
  await time('applyPage (SQLite), cold', () => {
    for (const [i, p] of pages.entries())
      applyPage(lite, p, {
        observedAt: T0 + i,
        payloads: { request: true },
        checkpoint: { partition: 'head', pagesDelta: 1 },
      });
  });
  lite.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const rate = (ms: number) => Math.round((total / ms) * 1000);
console.log(`${total} jobs, pages of ${pageSize}`);
for (const [label, ms] of Object.entries(results))
  console.log(`${label.padEnd(45)} ${(ms / 1000).toFixed(2)} s  ${rate(ms)} jobs/s`);
const cold = results['applyPagePg, cold'] ?? 0;
const floor = results['floor: same rows, set-based inserts only'] ?? 1;
console.log(`applyPagePg / floor: ${(cold / floor).toFixed(2)}x`);
