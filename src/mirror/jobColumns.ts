/**
 * The columns of `jobs`, declared once: where each value comes from, how the merge treats it, and its type.
 * Everything that lists the columns is derived from `JOB_COLUMNS`: the stored-row and draft types
 * (`StoredJob`, `JobDraft`), the derivation of a draft from an upstream job (`jobToRow`), the merge's
 * carry-over and change detection (`mergeObservation`), the SQLite write statements (applyPage.ts, named
 * parameters) and the columns the read API selects (queryJobs.ts). Adding a column is its line in schema.ts
 * (plus the generated migration) and one entry here; `test/mirror/jobColumns.test.ts` checks the two agree.
 *
 * Dialect-neutral on purpose: no SQL beyond column names, so a second store (PostgreSQL, issue #21) builds
 * its own set-based statements from the same list. `type` is the logical type: `json` is JSON text,
 * `boolean` a boolean (SQLite keeps 0/1: its store converts at the boundary).
 *
 * Three kinds of column:
 * - `upstream`: derived from the upstream item alone (`from`). The merge takes the observation's value,
 *   except that absent is not null: with `keepWhenNull: k`, an observation whose draft field `k` is null
 *   (the item did not carry it: a lightweight listing, an upstream from before May 2026) keeps the stored
 *   value. With `wire`, the local API serves it under that Job field (rowToJob.ts).
 * - `payload`: request/response JSON. Not read back for the merge; a write with null keeps the stored text.
 * - `bookkeeping`: the mirror's own state, set by the merge rule (mergeObservation.ts states how). `touch`
 *   columns move with every observation and are not a change by themselves; `insertOnly` ones never change.
 */

import type { Job, JobSource, JobStatus } from '../retab/index.ts';
import { deriveSource, modelOf, projectId, workflowNodeId } from '../retab/index.ts';

/** What one upstream item offers the derivations, parsed once per item. */
export interface Observation {
  job: Job;
  request: Record<string, unknown> | null;
  metadata: Record<string, string> | null;
  /** The item's fields outside the contract's columns (see `extraFieldsOf`), null when none. */
  extraFields: Record<string, unknown> | null;
}

/** The logical type of a column, the same in every SQL dialect. */
export type ColumnType = 'text' | 'integer' | 'boolean' | 'json';

interface ColumnBase<T> {
  /** The SQL column name, as in schema.ts. */
  readonly sql: string;
  readonly type: ColumnType;
  /** Phantom: the TypeScript type of the value. Never set. */
  readonly value?: T;
}

export interface UpstreamColumn<T> extends ColumnBase<T> {
  readonly kind: 'upstream';
  readonly from: (o: Observation) => T;
  /** Absent is not null: when this draft field is null, the merge keeps the stored value. */
  readonly keepWhenNull?: 'request' | 'attemptCount';
  /** The Job field the local API serves this column as (rowToJob.ts); none for filter-only columns. */
  readonly wire?: keyof Job;
  /** Set anew from the merged row (after every other column), rather than taken from the observation. */
  readonly recompute?: (merged: Readonly<Record<string, unknown>>) => T;
}

export interface PayloadColumn<T> extends ColumnBase<T> {
  readonly kind: 'payload';
  readonly from: (o: Observation) => T;
}

export interface BookkeepingColumn<T> extends ColumnBase<T> {
  readonly kind: 'bookkeeping';
  /** Written by every observation, even one that changes nothing; not a change by itself. */
  readonly touch?: boolean;
  /** Written when the job is first stored, never updated. */
  readonly insertOnly?: boolean;
}

export type JobColumn = UpstreamColumn<unknown> | PayloadColumn<unknown> | BookkeepingColumn<unknown>;

type UpstreamOptions<T> = Pick<UpstreamColumn<T>, 'keepWhenNull' | 'wire' | 'recompute'>;

const upstream = <T>(
  sql: string,
  type: ColumnType,
  from: (o: Observation) => T,
  opts: UpstreamOptions<T> = {},
): UpstreamColumn<T> => ({ kind: 'upstream', sql, type, from, ...opts });

const payload = (sql: string, from: (o: Observation) => string | null): PayloadColumn<string | null> => ({
  kind: 'payload',
  sql,
  type: 'json',
  from,
});

const bookkeeping = <T>(
  sql: string,
  type: ColumnType,
  opts: Pick<BookkeepingColumn<T>, 'touch' | 'insertOnly'> = {},
): BookkeepingColumn<T> => ({ kind: 'bookkeeping', sql, type, ...opts });

const nonEmpty = (v: string | undefined | null): string | null => (v ? v : null);
/** A job's source from its workflow and project: what `deriveSource` says of one item, for a merged row. */
const sourceOf = (workflowId: string | null, projectId: string | null): JobSource =>
  workflowId ? 'workflow' : projectId ? 'project' : 'api';
const json = (v: unknown): string | null => (v ? JSON.stringify(v) : null);

/**
 * Every column of `jobs` but `seq` (the rowid, assigned by the store), keyed by the name the code (and the
 * statements' named parameters) use. Order is the order of the statements' column lists.
 */
export const JOB_COLUMNS = {
  id: upstream('id', 'text', (o) => o.job.id, { wire: 'id' }),
  status: upstream<JobStatus>('status', 'text', (o) => o.job.status, { wire: 'status' }),
  endpoint: upstream('endpoint', 'text', (o) => o.job.endpoint, { wire: 'endpoint' }),
  /** From this item alone; a merged row's from its merged workflow and project (a listing has no project). */
  source: upstream<JobSource>('source', 'text', (o) => deriveSource(o.metadata, o.request), {
    recompute: (m) => sourceOf(m.workflowId as string | null, m.projectId as string | null),
  }),
  createdAt: upstream('created_at', 'integer', (o) => o.job.created_at, { wire: 'created_at' }),
  startedAt: upstream('started_at', 'integer', (o) => o.job.started_at ?? null, { wire: 'started_at' }),
  completedAt: upstream('completed_at', 'integer', (o) => o.job.completed_at ?? null, {
    wire: 'completed_at',
  }),
  expiresAt: upstream('expires_at', 'integer', (o) => o.job.expires_at, { wire: 'expires_at' }),
  organizationId: upstream('organization_id', 'text', (o) => o.job.organization_id, {
    wire: 'organization_id',
  }),
  projectId: upstream('project_id', 'text', (o) => projectId(o.request), { keepWhenNull: 'request' }),
  workflowId: upstream('workflow_id', 'text', (o) => nonEmpty(o.metadata?.workflow_id)),
  workflowNodeId: upstream('workflow_node_id', 'text', (o) => nonEmpty(workflowNodeId(o.metadata))),
  model: upstream('model', 'text', (o) => modelOf(o.request), { keepWhenNull: 'request' }),
  errorCode: upstream('error_code', 'text', (o) => o.job.error?.code ?? null),
  errorMessage: upstream('error_message', 'text', (o) => o.job.error?.message ?? null),
  /** null when the item does not carry it (an upstream from before May 2026). */
  attemptCount: upstream('attempt_count', 'integer', (o) => o.job.attempt_count ?? null, {
    keepWhenNull: 'attemptCount',
    wire: 'attempt_count',
  }),
  /** Kept across retries; an item without `attempt_count` (older upstream) says nothing about it either. */
  lastFailureCode: upstream('last_failure_code', 'text', (o) => o.job.last_failure_code ?? null, {
    keepWhenNull: 'attemptCount',
    wire: 'last_failure_code',
  }),
  metadata: upstream('metadata', 'json', (o) => json(o.metadata), { wire: 'metadata' }),
  request: payload('request', (o) => json(o.request)),
  response: payload('response', (o) => json(o.job.response)),
  error: upstream('error', 'json', (o) => json(o.job.error), { wire: 'error' }),
  extra: upstream('extra', 'json', (o) => json(o.extraFields)),
  /** Unix s: when the latest attempt started (Job field since May 2026); the merge's second retry counter. */
  lastAttemptAt: upstream('last_attempt_at', 'integer', (o) => o.job.last_attempt_at ?? null, {
    wire: 'last_attempt_at',
  }),
  hasRequest: bookkeeping<boolean>('has_request', 'boolean'),
  hasResponse: bookkeeping<boolean>('has_response', 'boolean'),
  firstSeenAt: bookkeeping<number>('first_seen_at', 'integer', { insertOnly: true }),
  lastSeenAt: bookkeeping<number>('last_seen_at', 'integer', { touch: true }),
  observedAt: bookkeeping<number>('observed_at', 'integer', { touch: true }),
  statusChangedAt: bookkeeping<number | null>('status_changed_at', 'integer'),
  upstreamMissingAt: bookkeeping<number | null>('upstream_missing_at', 'integer'),
} as const;

type Columns = typeof JOB_COLUMNS;
export type ColumnKey = keyof Columns;
type ValueOf<C> = C extends { from: (o: Observation) => infer T }
  ? T
  : C extends ColumnBase<infer T>
    ? T
    : never;
type KeysOf<Kind> = { [K in ColumnKey]: Columns[K] extends { kind: Kind } ? K : never }[ColumnKey];

/** Every column's value, as the code holds it. */
export type JobColumnValues = { -readonly [K in ColumnKey]: ValueOf<Columns[K]> };
export type UpstreamKey = KeysOf<'upstream'>;
export type PayloadKey = KeysOf<'payload'>;
export type BookkeepingKey = KeysOf<'bookkeeping'>;

/** The stored columns the merge reads and writes: all of `jobs` except `seq` and the payloads. */
export type StoredJob = Omit<JobColumnValues, PayloadKey>;
/** The columns derived from one upstream item (payloads included). */
export type DraftColumns = Pick<JobColumnValues, UpstreamKey | PayloadKey>;

const entries = Object.entries(JOB_COLUMNS) as [ColumnKey, JobColumn][];
const keysWhere = <K extends ColumnKey>(test: (c: JobColumn) => boolean): K[] =>
  entries.filter(([, c]) => test(c)).map(([k]) => k as K);

/** The list as [key, column] pairs, in declaration order. */
export const JOB_COLUMN_ENTRIES: readonly (readonly [ColumnKey, JobColumn])[] = entries;
/** Upstream columns with their merge rule, for `mergeUpstream`. */
const UPSTREAM: readonly (readonly [UpstreamKey, UpstreamColumn<unknown>])[] = entries.filter(
  (e): e is [UpstreamKey, UpstreamColumn<unknown>] => e[1].kind === 'upstream',
);
const DRAFTED: readonly (readonly [
  UpstreamKey | PayloadKey,
  UpstreamColumn<unknown> | PayloadColumn<unknown>,
])[] = entries.filter(
  (e): e is [UpstreamKey | PayloadKey, UpstreamColumn<unknown> | PayloadColumn<unknown>] =>
    e[1].kind !== 'bookkeeping',
);
/** Keys of `StoredJob`, in declaration order. */
export const STORED_KEYS: readonly Exclude<ColumnKey, PayloadKey>[] = keysWhere((c) => c.kind !== 'payload');
export const PAYLOAD_KEYS: readonly PayloadKey[] = keysWhere((c) => c.kind === 'payload');
/** Keys whose values are booleans (stores without a boolean type convert them). */
export const BOOLEAN_KEYS: readonly ColumnKey[] = keysWhere((c) => c.type === 'boolean');
/** Stored columns whose difference makes an observation a change: all but the `touch` ones. */
const COMPARED_KEYS: readonly Exclude<ColumnKey, PayloadKey>[] = keysWhere(
  (c) => c.kind !== 'payload' && !(c.kind === 'bookkeeping' && c.touch === true),
);

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
for (const [k, c] of entries) {
  const names = [k, c.kind === 'upstream' ? (c.wire ?? k) : k];
  if (!names.every((n) => IDENTIFIER.test(n))) throw new Error(`jobColumns: "${k}" is not an identifier`);
}

/**
 * Compiles `(args) => { body }`, with `scope`'s values in reach under their names. The per-row functions
 * below (and the stores' row mappers) are generated from the list as straight-line code, as one would write
 * them by hand: a loop over the list that adds an object's keys one by one measured 3–25× slower per row,
 * enough to slow a page by a third (bench/applyPage.ts). Only the list's keys and wire names (checked
 * identifiers above) are spliced into the source, never data.
 */
export function compileOverColumns<F>(
  scope: Readonly<Record<string, unknown>>,
  args: string,
  body: string,
): F {
  const names = Object.keys(scope);
  const make = new Function(...names, `"use strict"; return (${args}) => { ${body} };`) as (
    ...values: unknown[]
  ) => F;
  return make(...names.map((n) => scope[n]));
}

const listOf = (parts: readonly string[]) => parts.join(', ');

/** The draft columns of one upstream item: `{ key: C.key.from(o), … }`. */
export const draftColumns: (o: Observation) => DraftColumns = compileOverColumns(
  { C: JOB_COLUMNS },
  'o',
  `return { ${listOf(DRAFTED.map(([k]) => `${k}: C.${k}.from(o)`))} };`,
);

/** The bookkeeping columns, set by the merge rule (mergeObservation.ts). */
export type Bookkeeping = Pick<StoredJob, BookkeepingKey>;

/**
 * The stored row after merging observation `d` into the stored `s` (undefined: a new job): each upstream
 * column takes the observation's value, except where its `keepWhenNull` field of the draft is null (absent
 * is not null: the stored value stays); `recompute` columns are then set from the merged row; the
 * bookkeeping comes from `b`.
 */
export const mergeColumns: (s: StoredJob | undefined, d: DraftColumns, b: Bookkeeping) => StoredJob =
  compileOverColumns(
    { C: JOB_COLUMNS },
    's, d, b',
    `const r = { ${listOf(
      entries.flatMap(([k, c]) => {
        if (c.kind === 'payload') return [];
        if (c.kind === 'bookkeeping') return [`${k}: b.${k}`];
        const keep = c.keepWhenNull;
        return [keep ? `${k}: s !== undefined && d.${keep} === null ? s.${k} : d.${k}` : `${k}: d.${k}`];
      }),
    )} };
    ${UPSTREAM.filter(([, c]) => c.recompute)
      .map(([k]) => `r.${k} = C.${k}.recompute(r);`)
      .join(' ')}
    return r;`,
  );

/**
 * What a stale observation may still change: the columns derived from its request (requests never change
 * upstream, so it fills in what a lightweight listing left unknown), then the `recompute` ones.
 */
export function fillFromRequest(s: StoredJob, d: DraftColumns): StoredJob {
  const r = Object.assign({}, s) as Record<string, unknown>;
  for (const [k, c] of UPSTREAM) if (c.keepWhenNull === 'request') r[k] = d[k];
  for (const [k, c] of UPSTREAM) if (c.recompute) r[k] = c.recompute(r);
  return r as StoredJob;
}

/** Whether `next` differs from `s` in any column but the `touch` ones (seen and observed times). */
export const columnsChanged: (s: StoredJob, next: StoredJob) => boolean = compileOverColumns(
  {},
  's, n',
  `return ${COMPARED_KEYS.map((k) => `n.${k} !== s.${k}`).join(' || ')};`,
);
