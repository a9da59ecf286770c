/**
 * The mirror's write path: one page of upstream jobs, merged into the stored rows (see mergeObservation.ts
 * for the rules), with their derived rows, their outbox events, the rejected items and the partition
 * checkpoint, all in ONE synchronous transaction: a page commits whole or not at all, so a killed sync
 * resumes from the last committed checkpoint and never sees half a page.
 *
 * Hot path: one SELECT reads every stored row of the page, then prepared single-row statements (cached per
 * mirror) write only what changed; unchanged rows only get their seen/observed times bumped. A job's files
 * and metadata rows are keyed by its `seq` (the rowid: it grows with each new job), so a page of new jobs
 * appends to those indexes; keyed by the random job id, every commit rewrote pages all over them.
 *
 * The filename index follows: new jobs are indexed a batch at a time at the end of a page (a backfill's pages
 * leave that to the next other page), already indexed jobs whose files change are re-indexed by triggers
 * (filenameIndex.ts).
 *
 * Hydration (fetching a known job's request) also goes through here: a retrieved job is just a fresher
 * observation that carries its request.
 */
import type { Job } from '../retab/index.ts';
import { catchUpFilenameIndex } from './filenameIndex.ts';
import {
  BOOLEAN_KEYS,
  compileOverColumns,
  JOB_COLUMN_ENTRIES,
  JOB_COLUMNS,
  STORED_KEYS,
  type StoredJob,
} from './jobColumns.ts';
import { type JobDraft, jobSnapshot, jobToRow } from './jobToRow.ts';
import { type MergePlan, mergeObservation } from './mergeObservation.ts';
import type { Mirror } from './openMirror.ts';
import { type EventWriter, eventWriter } from './outbox.ts';
import { prepared } from './prepared.ts';
import { quarantineWriter } from './quarantine.ts';
import { checkFence, saveCheckpoint } from './syncState.ts';
import type { ApplyPageOptions, ApplyResult } from './types.ts';

// The `jobs` statements, built from the one column list (jobColumns.ts) with named parameters (`@key`).
const STORED_COLUMNS = STORED_KEYS.map((k) => `${JOB_COLUMNS[k].sql} AS ${k}`).join(', ');
const SELECT_PAGE = `SELECT seq, ${STORED_COLUMNS} FROM jobs WHERE id IN (SELECT value FROM json_each(?))`;

const INSERT_JOB = `INSERT INTO jobs (${JOB_COLUMN_ENTRIES.map(([, c]) => c.sql).join(', ')})
  VALUES (${JOB_COLUMN_ENTRIES.map(([k]) => `@${k}`).join(', ')})`;

/** Every column but the key and the insert-only ones; a payload given as null keeps the stored text. */
const UPDATE_JOB = `UPDATE jobs SET ${JOB_COLUMN_ENTRIES.filter(
  ([k, c]) => k !== 'id' && !(c.kind === 'bookkeeping' && c.insertOnly),
)
  .map(([k, c]) => `${c.sql} = ${c.kind === 'payload' ? `coalesce(@${k}, ${c.sql})` : `@${k}`}`)
  .join(', ')} WHERE id = @id`;

/** Only the seen/observed times: an observation that changes nothing else. */
const TOUCH_JOB = `UPDATE jobs SET ${JOB_COLUMN_ENTRIES.filter(([, c]) => c.kind === 'bookkeeping' && c.touch)
  .map(([k, c]) => `${c.sql} = @${k}`)
  .join(', ')} WHERE id = @id`;

const DELETE_FILES = 'DELETE FROM job_files WHERE job_seq = ?';
const INSERT_FILE = `INSERT INTO job_files (job_seq, job_id, position, filename, document_type)
  VALUES (?, ?, ?, ?, ?)`;
const DELETE_METADATA = 'DELETE FROM job_metadata WHERE key = ? AND value = ? AND job_seq = ?';
const INSERT_METADATA = 'INSERT INTO job_metadata (job_seq, job_id, key, value) VALUES (?, ?, ?, ?)';

/** A stored row as this file reads it: what the merge needs, plus the `seq` its child rows are keyed by. */
type PageRow = StoredJob & { seq: number };

/** Reads rows as the merge needs them (SQLite stores booleans as 0/1). */
function toStoredJob<T extends StoredJob>(row: T): T {
  const r = row as Record<string, unknown>;
  for (const k of BOOLEAN_KEYS) r[k] = Boolean(r[k]);
  return row;
}

/**
 * The named parameters of a row write: the stored state with its booleans as 0/1, and the plan's payload
 * texts (`{ id: n.id, …, hasRequest: n.hasRequest ? 1 : 0, …, request: plan.request, … }`, generated).
 */
const rowParams: (plan: MergePlan) => Record<string, unknown> = compileOverColumns(
  {},
  'plan',
  `const n = plan.next; return { ${JOB_COLUMN_ENTRIES.map(([k, c]) =>
    c.kind === 'payload' ? `${k}: plan.${k}` : c.type === 'boolean' ? `${k}: n.${k} ? 1 : 0` : `${k}: n.${k}`,
  ).join(', ')} };`,
);

const pairsOf = (metadataJson: string | null): Array<[string, string]> =>
  metadataJson === null ? [] : Object.entries(JSON.parse(metadataJson) as Record<string, string>);

function writeDerived(
  mirror: Mirror,
  plan: MergePlan,
  d: JobDraft,
  seq: number,
  before: StoredJob | undefined,
): void {
  if (plan.rewriteFiles) {
    if (before) prepared(mirror, DELETE_FILES).run(seq);
    const insert = prepared(mirror, INSERT_FILE);
    for (const f of d.files ?? []) insert.run(seq, d.id, f.position, f.filename, f.documentType);
  }
  if (plan.rewriteMetadata) {
    // Only the pairs that changed: the rows are keyed (key, value, job_id), found from the stored JSON.
    const old = new Map(pairsOf(before?.metadata ?? null));
    const insert = prepared(mirror, INSERT_METADATA);
    for (const [k, v] of d.metadataPairs) {
      if (old.get(k) === v) old.delete(k);
      else insert.run(seq, d.id, k, v);
    }
    if (old.size > 0) {
      const del = prepared(mirror, DELETE_METADATA);
      for (const [k, v] of old) del.run(k, v, seq);
    }
  }
}

/**
 * Writes the job's row; returns its `seq` (new for an insert, else the stored one). A stale observation
 * that brought a missing request (`fill`) rewrites the row as the merge left it, payload included.
 */
function writeJob(mirror: Mirror, plan: MergePlan, before: PageRow | undefined): number {
  const seq = before?.seq ?? 0;
  switch (plan.kind) {
    case 'insert':
      return Number(prepared(mirror, INSERT_JOB).run(rowParams(plan)).lastInsertRowid);
    case 'update':
    case 'fill':
      prepared(mirror, UPDATE_JOB).run(rowParams(plan));
      return seq;
    case 'touch':
      prepared(mirror, TOUCH_JOB).run(plan.next);
      return seq;
    case 'stale':
      return seq;
  }
}

function writeEvents(
  write: EventWriter,
  job: Job,
  d: JobDraft,
  plan: MergePlan,
  opts: ApplyPageOptions,
): number {
  const isNew = plan.kind === 'insert';
  if (!isNew && plan.steps.length === 0) return 0;
  const snapshotJson = JSON.stringify(jobSnapshot(job, d.extraFields));
  const backfill = opts.backfill ?? false;
  // Discovery is dated by the job's creation; a job first seen mid-lifecycle gets no inferred history.
  if (isNew) {
    return write(
      d.id,
      'job.discovered',
      null,
      d.status,
      d.createdAt * 1000,
      opts.observedAt,
      false,
      backfill,
      snapshotJson,
    );
  }
  let n = 0;
  for (const s of plan.steps) {
    n += write(
      d.id,
      'job.status_changed',
      s.from,
      s.to,
      s.occurredAt,
      opts.observedAt,
      s.inferred,
      backfill,
      snapshotJson,
    );
  }
  return n;
}

function applyInTransaction(mirror: Mirror, jobs: readonly Job[], opts: ApplyPageOptions): ApplyResult {
  const result: ApplyResult = { inserted: 0, updated: 0, unchanged: 0, events: 0, quarantined: 0 };
  const stored = new Map<string, PageRow>();
  if (jobs.length > 0) {
    const ids = JSON.stringify(jobs.map((j) => j.id));
    for (const row of prepared(mirror, SELECT_PAGE).all(ids) as PageRow[])
      stored.set(row.id, toStoredJob(row));
  }
  const write = eventWriter(mirror);
  for (const job of jobs) {
    const d = jobToRow(job);
    const before = stored.get(d.id);
    const plan = mergeObservation(before, d, opts.observedAt, opts.payloads);
    const seq = writeJob(mirror, plan, before);
    writeDerived(mirror, plan, d, seq, before);
    result.events += writeEvents(write, job, d, plan, opts);
    // A page can list the same job twice (the listing moved under the cursor): merge the second against the first.
    const next = plan.next as PageRow;
    next.seq = seq;
    stored.set(d.id, next);
    if (plan.kind === 'insert') result.inserted++;
    else if (plan.kind === 'update' || plan.kind === 'fill') result.updated++;
    else result.unchanged++;
  }
  if (opts.rejected && opts.rejected.length > 0) {
    const quarantine = quarantineWriter(mirror);
    for (const item of opts.rejected) {
      quarantine(item, opts.partition ?? opts.checkpoint?.partition ?? null, opts.observedAt);
      result.quarantined++;
    }
  }
  // New jobs join the filename index a batch at a time (filenameIndex.ts), in this page's transaction; a
  // backfill's pages leave it to the next other page, which indexes their jobs in larger, cheaper batches.
  if (!opts.backfill) catchUpFilenameIndex((sql) => prepared(mirror, sql));
  // Last, so that PostgreSQL's row lock on the fence is taken after the job locks (the same order for every
  // writer): a stale token rolls back the whole page.
  if (opts.fence) checkFence(mirror, opts.fence);
  if (opts.checkpoint) saveCheckpoint(mirror, opts.checkpoint);
  return result;
}

type ApplyTransaction = ReturnType<typeof makeTransaction>;
const makeTransaction = (sqlite: Mirror['sqlite']) => sqlite.transaction(applyInTransaction);
const transactions = new WeakMap<Mirror['sqlite'], ApplyTransaction>();

/**
 * Merge one page of jobs into the mirror in one transaction; see the file header for the rules.
 * Throws (and writes nothing) if any statement fails.
 */
export function applyPage(mirror: Mirror, jobs: readonly Job[], opts: ApplyPageOptions): ApplyResult {
  let tx = transactions.get(mirror.sqlite);
  if (!tx) {
    tx = makeTransaction(mirror.sqlite);
    transactions.set(mirror.sqlite, tx);
  }
  // IMMEDIATE: take the write lock before reading the stored rows. A deferred transaction that read first
  // fails with SQLITE_BUSY (no wait) when another process commits in between; this one waits its turn.
  return tx.immediate(mirror, jobs, opts);
}
