/**
 * The PostgreSQL write path: one page of upstream jobs merged into the stored rows with the SAME rule as
 * SQLite (../mergeObservation.ts, called here, not restated) and the same results (../applyPage.ts): rows,
 * derived rows (files, metadata), quarantined items, the checkpoint and the outbox events in ONE transaction.
 *
 * What differs is how it is written, because several writers may share one database:
 * 1. Lock the page's jobs first, in a fixed order (advisory locks by ascending key, locks.ts), then read
 *    their rows `ORDER BY id FOR UPDATE`. Two writers whose pages share jobs queue on the first shared one
 *    and never deadlock; the advisory lock also covers jobs not stored yet, so the same new job is never
 *    inserted twice (the second writer waits, then merges against the first one's row).
 * 2. Merge in memory, page order, exactly as SQLite does (a job listed twice is merged against its first
 *    occurrence), keeping each job's final state, its net file and metadata changes, and its events.
 * 3. Write set-based: one multi-row statement per kind (`INSERT … SELECT FROM unnest($arrays)`, `UPDATE …
 *    FROM unnest(…)`), about ten statements a page instead of hundreds.
 * 4. Checkpoint, then the outbox append last (appendEvents.ts explains why seq order is then commit order).
 *
 * The filename index (a pg_trgm GIN index) is kept by PostgreSQL itself: nothing to catch up here.
 */
import type pg from 'pg';
import type { Job } from '../../retab/index.ts';
import { type ColumnKey, JOB_COLUMNS, type JobColumn, PAYLOAD_KEYS, STORED_KEYS } from '../jobColumns.ts';
import { type JobDraft, type JobFileRow, jobSnapshot, jobToRow } from '../jobToRow.ts';
import { type MergePlan, mergeObservation, type StoredJob } from '../mergeObservation.ts';
import type { ApplyPageOptions, ApplyResult } from '../types.ts';
import { appendEvents, type NewEvent } from './appendEvents.ts';
import { PG_STORED_JOB_COLUMNS, pgTypeOf } from './jobColumnsPg.ts';
import { lockJobs } from './locks.ts';
import { pgText } from './pgText.ts';
import { quarantineItems } from './quarantinePg.ts';
import { checkFencePg, saveCheckpointPg } from './syncStatePg.ts';
import { inTransaction } from './transaction.ts';

const SELECT_PAGE = `SELECT ${PG_STORED_JOB_COLUMNS} FROM jobs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`;

/**
 * The written columns, from the one list (../jobColumns.ts), in one order shared by the INSERT and the UPDATE:
 * the stored ones, then the payloads (on an update, a null payload keeps the stored text: absent is not null).
 */
const WRITTEN: readonly ColumnKey[] = [...STORED_KEYS, ...PAYLOAD_KEYS];
const NAMES = WRITTEN.map((k) => JOB_COLUMNS[k].sql);
const UNNEST = `unnest(${WRITTEN.map((k, i) => `$${i + 1}::${pgTypeOf(k)}[]`).join(', ')})`;

const INSERT_JOBS = `INSERT INTO jobs (${NAMES.join(', ')})
  SELECT ${NAMES.join(', ')} FROM ${UNNEST} WITH ORDINALITY AS v(${NAMES.join(', ')}, ord) ORDER BY ord
  RETURNING id, seq`;

const UPDATE_JOBS = `UPDATE jobs AS j SET ${WRITTEN.filter((k) => {
  const c: JobColumn = JOB_COLUMNS[k];
  return k !== 'id' && !(c.kind === 'bookkeeping' && c.insertOnly);
})
  .map((k) => {
    const n = JOB_COLUMNS[k].sql;
    return JOB_COLUMNS[k].kind === 'payload' ? `${n} = coalesce(v.${n}, j.${n})` : `${n} = v.${n}`;
  })
  .join(', ')}
  FROM ${UNNEST} AS v(${NAMES.join(', ')}) WHERE j.id = v.id`;

/** The steady state's common case: the job is unchanged, only when it was last seen moves. */
const TOUCHED: readonly ColumnKey[] = STORED_KEYS.filter((k) => {
  const c: JobColumn = JOB_COLUMNS[k];
  return c.kind === 'bookkeeping' && c.touch === true;
});
const TOUCH_JOBS = `UPDATE jobs AS j SET ${TOUCHED.map((k) => `${JOB_COLUMNS[k].sql} = v.${JOB_COLUMNS[k].sql}`).join(', ')}
  FROM unnest(${['id' as const, ...TOUCHED].map((k, i) => `$${i + 1}::${pgTypeOf(k)}[]`).join(', ')})
  AS v(${['id' as const, ...TOUCHED].map((k) => JOB_COLUMNS[k].sql).join(', ')}) WHERE j.id = v.id`;

const DELETE_FILES = 'DELETE FROM job_files WHERE job_seq = ANY($1::bigint[])';
const INSERT_FILES = `INSERT INTO job_files (job_seq, job_id, position, filename, document_type)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], $5::text[])`;
const DELETE_METADATA = `DELETE FROM job_metadata AS m USING unnest($1::text[], $2::text[], $3::bigint[]) AS d(key, value, job_seq)
  WHERE m.key = d.key AND m.value = d.value AND m.job_seq = d.job_seq`;
const INSERT_METADATA = `INSERT INTO job_metadata (job_seq, job_id, key, value)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])`;

type PageRow = StoredJob & { seq: number };

/** One job's net change over the page (a job may be listed more than once). */
interface JobChange {
  /** The row before this page, if it was stored. */
  before: PageRow | undefined;
  /** The state after the page's last observation of it. */
  next: StoredJob;
  /** Any occurrence wrote something (not only `stale`). */
  write: boolean;
  /** Every occurrence that wrote only moved the seen/observed times (`touch`): a narrow update does. */
  touchOnly: boolean;
  /** Payload text to store; null keeps the stored one. */
  request: string | null;
  response: string | null;
  /** The files to store instead of the stored ones, when an occurrence rewrote them. */
  files: JobFileRow[] | null;
}

const pairsOf = (metadataJson: string | null): Array<[string, string]> =>
  metadataJson === null ? [] : Object.entries(JSON.parse(metadataJson) as Record<string, string>);

function eventsOf(job: Job, d: JobDraft, plan: MergePlan, opts: ApplyPageOptions, out: NewEvent[]): void {
  const isNew = plan.kind === 'insert';
  if (!isNew && plan.steps.length === 0) return;
  const snapshotJson = JSON.stringify(jobSnapshot(job, d.extraFields));
  const backfill = opts.backfill ?? false;
  const base = { jobId: d.id, observedAt: opts.observedAt, backfill, snapshotJson };
  // Discovery is dated by the job's creation; a job first seen mid-lifecycle gets no inferred history.
  if (isNew) {
    out.push({
      ...base,
      type: 'job.discovered',
      from: null,
      to: d.status,
      occurredAt: d.createdAt * 1000,
      inferred: false,
    });
    return;
  }
  for (const s of plan.steps)
    out.push({
      ...base,
      type: 'job.status_changed',
      from: s.from,
      to: s.to,
      occurredAt: s.occurredAt,
      inferred: s.inferred,
    });
}

/** Append one row to column arrays (the parameters of an `unnest`). */
export function pushRow(cols: unknown[][], values: readonly unknown[]): void {
  for (let i = 0; i < values.length; i++) cols[i]?.push(pgText(values[i]));
}

function columnsOf(changes: readonly JobChange[]): unknown[][] {
  const cols: unknown[][] = NAMES.map(() => []);
  for (const c of changes) {
    const row = c.next as unknown as Record<string, unknown>;
    pushRow(cols, [...STORED_KEYS.map((k) => row[k]), c.request, c.response]);
  }
  return cols;
}

async function writeDerived(
  client: pg.PoolClient,
  changes: readonly JobChange[],
  seqOf: Map<string, number>,
) {
  const rewritten = changes.filter((c) => c.files !== null);
  const stale = rewritten.filter((c) => c.before).map((c) => c.before?.seq);
  if (stale.length > 0) await client.query(DELETE_FILES, [stale]);
  const f: unknown[][] = [[], [], [], [], []];
  for (const c of rewritten) {
    const seq = seqOf.get(c.next.id);
    for (const file of c.files ?? [])
      pushRow(f, [seq, c.next.id, file.position, file.filename, file.documentType]);
  }
  if ((f[0]?.length ?? 0) > 0) await client.query(INSERT_FILES, f);

  // Only the pairs that changed: rows are keyed (key, value, job_seq), found from the stored JSON.
  const del: unknown[][] = [[], [], []];
  const ins: unknown[][] = [[], [], [], []];
  for (const c of changes) {
    const was = c.before?.metadata ?? null;
    if (c.next.metadata === was) continue;
    const seq = seqOf.get(c.next.id);
    const old = new Map(pairsOf(was));
    for (const [k, v] of pairsOf(c.next.metadata)) {
      if (old.get(k) === v) old.delete(k);
      else pushRow(ins, [seq, c.next.id, k, v]);
    }
    for (const [k, v] of old) pushRow(del, [k, v, seq]);
  }
  if ((del[0]?.length ?? 0) > 0) await client.query(DELETE_METADATA, del);
  if ((ins[0]?.length ?? 0) > 0) await client.query(INSERT_METADATA, ins);
}

async function applyInTransaction(
  client: pg.PoolClient,
  jobs: readonly Job[],
  drafts: readonly JobDraft[],
  opts: ApplyPageOptions,
): Promise<ApplyResult> {
  const result: ApplyResult = { inserted: 0, updated: 0, unchanged: 0, events: 0, quarantined: 0 };
  const ids = [...new Set(drafts.map((d) => d.id))];
  const changes = new Map<string, JobChange>();
  if (ids.length > 0) {
    await lockJobs(client, ids);
    const rows = await client.query<PageRow>(SELECT_PAGE, [ids]);
    for (const row of rows.rows)
      changes.set(row.id, {
        before: row,
        next: row,
        write: false,
        touchOnly: true,
        request: null,
        response: null,
        files: null,
      });
  }
  const events: NewEvent[] = [];
  jobs.forEach((job, i) => {
    const d = drafts[i] as JobDraft;
    const c = changes.get(d.id);
    const plan = mergeObservation(c?.next, d, opts.observedAt, opts.payloads);
    eventsOf(job, d, plan, opts, events);
    if (plan.kind === 'insert') result.inserted++;
    else if (plan.kind === 'update' || plan.kind === 'fill') result.updated++;
    else result.unchanged++;
    const change = c ?? {
      before: undefined,
      next: plan.next,
      write: false,
      touchOnly: true,
      request: null,
      response: null,
      files: null,
    };
    change.next = plan.next;
    change.write ||= plan.kind !== 'stale';
    change.touchOnly &&= plan.kind === 'touch' || plan.kind === 'stale';
    change.request = plan.request ?? change.request;
    change.response = plan.response ?? change.response;
    if (plan.rewriteFiles) change.files = d.files ?? [];
    changes.set(d.id, change);
  });

  const all = [...changes.values()].filter((c) => c.write);
  const inserts = all.filter((c) => !c.before);
  const updates = all.filter((c) => c.before && !c.touchOnly);
  const touches = all.filter((c) => c.before && c.touchOnly);
  const seqOf = new Map<string, number>();
  for (const c of updates) seqOf.set(c.next.id, (c.before as PageRow).seq);
  if (inserts.length > 0) {
    const r = await client.query<{ id: string; seq: number }>(INSERT_JOBS, columnsOf(inserts));
    for (const row of r.rows) seqOf.set(row.id, row.seq);
  }
  if (updates.length > 0) await client.query(UPDATE_JOBS, columnsOf(updates));
  if (touches.length > 0)
    await client.query(
      TOUCH_JOBS,
      ['id' as const, ...TOUCHED].map((k) => touches.map((c) => c.next[k as keyof StoredJob])),
    );
  await writeDerived(client, all, seqOf);
  if (opts.rejected && opts.rejected.length > 0)
    result.quarantined = await quarantineItems(
      client,
      opts.rejected,
      opts.partition ?? opts.checkpoint?.partition ?? null,
      opts.observedAt,
    );
  // After the job locks (every writer locks in this order), before the outbox append: a stale token rolls
  // back the whole page.
  if (opts.fence) await checkFencePg(client, opts.fence);
  if (opts.checkpoint) await saveCheckpointPg(client, opts.checkpoint);
  result.events = await appendEvents(client, events);
  return result;
}

/**
 * Merge one page of jobs into the PostgreSQL mirror in one transaction; see the file header for the rules.
 * Resolves with the same counts as SQLite's applyPage; rejects (and writes nothing) if any statement fails.
 */
export async function applyPagePg(
  pool: pg.Pool,
  jobs: readonly Job[],
  opts: ApplyPageOptions,
): Promise<ApplyResult> {
  // Pure work before the transaction: it holds its locks for the writes only.
  const drafts = jobs.map(jobToRow);
  return inTransaction(pool, (client) => applyInTransaction(client, jobs, drafts, opts));
}
