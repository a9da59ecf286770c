/**
 * Copy a mirror between stores (SQLite file → PostgreSQL, PostgreSQL → SQLite file, or same kind): every
 * table, keys kept (`seq`, ids), so event cursors, dead letters and runs still point at the same rows.
 * The groundwork of `retab-mirror copy`; the command adds the progress bar and exit codes.
 *
 * - Streaming: tables are read in key order in batches; memory holds one batch.
 * - Resumable: each batch (a run of jobs with their files and metadata, or a run of another table's rows)
 *   commits in one transaction, and a new copy starts after the largest key the target already holds. The
 *   small tables (sync_state, event_cursors) are upserted whole at the end, so they reflect the source when
 *   the copy finished.
 * - Verified: at the end, every table's row count must be equal on both sides, else CopyVerifyError.
 * - On PostgreSQL, the identity sequences are moved past the copied keys; on SQLite, the filename index is
 *   caught up for the copied jobs.
 *
 * The source should not be written while it is copied (stop the worker): rows changed after their batch
 * was copied are not copied again (the count check catches added rows, not changed ones).
 */
import type pg from 'pg';
import type { MirrorLocation } from '../../mirrorLocation.ts';
import { catchUpFilenameIndex } from '../filenameIndex.ts';
import type { Mirror } from '../openMirror.ts';
import { PG_JOB_TABLE_COLUMNS } from './jobColumnsPg.ts';
import type { PgMirror } from './openPgMirror.ts';
import { pgText } from './pgText.ts';
import { inTransaction } from './transaction.ts';

type Kind = 'text' | 'bigint' | 'integer' | 'boolean';
interface TableSpec {
  table: string;
  /** Batches follow this key (jobs' children follow their job). */
  key: string;
  columns: ReadonlyArray<readonly [string, Kind]>;
}

const T = 'text' as const;
const B = 'bigint' as const;
const I = 'integer' as const;
const BOOL = 'boolean' as const;

/** Every column of `jobs`, from the one list (../jobColumns.ts) with schema.ts's types. */
const JOBS: TableSpec = {
  table: 'jobs',
  key: 'seq',
  columns: PG_JOB_TABLE_COLUMNS as ReadonlyArray<readonly [string, Kind]>,
};
const FILES: TableSpec = {
  table: 'job_files',
  key: 'job_seq',
  columns: [
    ['job_seq', B],
    ['job_id', T],
    ['position', I],
    ['filename', T],
    ['document_type', T],
  ],
};
const METADATA: TableSpec = {
  table: 'job_metadata',
  key: 'job_seq',
  columns: [
    ['job_seq', B],
    ['job_id', T],
    ['key', T],
    ['value', T],
  ],
};
/** Append-only tables with their own integer key. */
const LOGS: TableSpec[] = [
  {
    table: 'job_events',
    key: 'seq',
    columns: [
      ['seq', B],
      ['event_id', T],
      ['type', T],
      ['job_id', T],
      ['from_status', T],
      ['to_status', T],
      ['occurred_at', B],
      ['observed_at', B],
      ['inferred', BOOL],
      ['backfill', BOOL],
      ['payload', T],
    ],
  },
  {
    table: 'sync_runs',
    key: 'id',
    columns: [
      ['id', B],
      ['task', T],
      ['partition', T],
      ['started_at', B],
      ['finished_at', B],
      ['requests', I],
      ['pages', I],
      ['jobs', I],
      ['inserted', I],
      ['updated', I],
      ['events', I],
      ['missing', I],
      ['quarantined', I],
      ['upstream_statuses', T],
      ['outcome', T],
      ['error', T],
    ],
  },
  {
    table: 'quarantine',
    key: 'id',
    columns: [
      ['id', B],
      ['job_id', T],
      ['partition', T],
      ['reason', T],
      ['issues', T],
      ['raw', T],
      ['observed_at', B],
    ],
  },
  {
    table: 'event_dead_letters',
    key: 'id',
    columns: [
      ['id', B],
      ['sink', T],
      ['seq', B],
      ['event_id', T],
      ['attempts', I],
      ['last_error', T],
      ['failed_at', B],
      ['resolved_at', B],
    ],
  },
];
/** Small tables, upserted whole at the end. */
const STATE: TableSpec[] = [
  {
    table: 'sync_state',
    key: 'partition',
    columns: [
      ['partition', T],
      ['cursor', T],
      ['watermark', B],
      ['status', T],
      ['pages', I],
      ['jobs', I],
      ['last_run_at', B],
      ['last_success_at', B],
      ['last_error', T],
      ['updated_at', B],
      ['fence', B],
    ],
  },
  {
    table: 'event_cursors',
    key: 'sink',
    columns: [
      ['sink', T],
      ['seq', B],
      ['updated_at', B],
      ['generation', I],
      ['disabled_at', B],
      ['disabled_reason', T],
    ],
  },
];
const ALL = [JOBS, FILES, METADATA, ...LOGS, ...STATE];

type Row = unknown[];
interface Batch {
  spec: TableSpec;
  rows: Row[];
}

/** One side of a copy: reads rows as arrays in column order (booleans as booleans), writes batches atomically. */
interface Side {
  read(spec: TableSpec, where: string, args: unknown[], limit?: number): Promise<Row[]>;
  maxKey(spec: TableSpec): Promise<number>;
  /** Rows of `table`, or of those matching `where` (`$1`-style placeholders on both sides). */
  count(table: string, where?: string, args?: unknown[]): Promise<number>;
  /** Writes every batch in one transaction; `upsert` replaces rows with the same key. */
  write(batches: Batch[], upsert?: boolean): Promise<void>;
  finish(): Promise<void>;
}

const cols = (s: TableSpec) => s.columns.map((c) => c[0]).join(', ');

function sqliteSide(m: Mirror): Side {
  const db = m.sqlite;
  const toSqlite = (s: TableSpec, r: Row) => r.map((v, i) => (s.columns[i]?.[1] === BOOL ? (v ? 1 : 0) : v));
  return {
    async read(s, where, args, limit) {
      const text = `SELECT ${cols(s)} FROM ${s.table} ${where.replaceAll(/\$\d+/g, '?')} ORDER BY ${s.key}${limit ? ` LIMIT ${limit}` : ''}`;
      const rows = db
        .prepare(text)
        .raw(true)
        .all(...args) as Row[];
      const flags = s.columns.flatMap(([, k], n) => (k === BOOL ? [n] : []));
      for (const r of rows) for (const n of flags) r[n] = r[n] === 1;
      return rows;
    },
    async maxKey(s) {
      return (db.prepare(`SELECT max(${s.key}) AS n FROM ${s.table}`).get() as { n: number | null }).n ?? 0;
    },
    async count(table, where = '', args = []) {
      const text = `SELECT count(*) AS n FROM ${table} ${where.replaceAll(/\$\d+/g, '?')}`;
      return (db.prepare(text).get(...args) as { n: number }).n;
    },
    async write(batches, upsert = false) {
      db.transaction(() => {
        for (const b of batches) {
          const stmt = db.prepare(
            `INSERT ${upsert ? 'OR REPLACE ' : ''}INTO ${b.spec.table} (${cols(b.spec)}) VALUES (${b.spec.columns.map(() => '?').join(', ')})`,
          );
          for (const r of b.rows) stmt.run(...toSqlite(b.spec, r));
        }
      })();
    },
    async finish() {
      // The copied jobs join the filename index (applyPage would have added them a batch at a time).
      const tx = db.transaction(() => catchUpFilenameIndex((sql) => db.prepare(sql), 0));
      while (tx() > 0) {
        // until every copied job is indexed (at most MAX_CATCH_UP per transaction)
      }
    },
  };
}

function pgSide(m: PgMirror): Side {
  const pool = m.pool;
  const insert = (s: TableSpec, upsert: boolean) => {
    const names = cols(s);
    const conflict = upsert
      ? ` ON CONFLICT (${s.key}) DO UPDATE SET ${s.columns
          .filter(([c]) => c !== s.key)
          .map(([c]) => `${c} = excluded.${c}`)
          .join(', ')}`
      : '';
    return `INSERT INTO ${s.table} (${names}) SELECT * FROM unnest(${s.columns
      .map(([, k], i) => `$${i + 1}::${k}[]`)
      .join(', ')})${conflict}`;
  };
  return {
    async read(s, where, args, limit) {
      const r = await pool.query({
        text: `SELECT ${cols(s)} FROM ${s.table} ${where} ORDER BY ${s.key}${limit ? ` LIMIT ${limit}` : ''}`,
        values: args,
        rowMode: 'array',
      });
      return r.rows as Row[];
    },
    async maxKey(s) {
      const r = await pool.query<{ n: number | null }>(`SELECT max(${s.key}) AS n FROM ${s.table}`);
      return r.rows[0]?.n ?? 0;
    },
    async count(table, where = '', args = []) {
      const r = await pool.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} ${where}`, args);
      return r.rows[0]?.n ?? 0;
    },
    async write(batches, upsert = false) {
      await inTransaction(pool, async (c: pg.PoolClient) => {
        for (const b of batches) {
          if (b.rows.length === 0) continue;
          const columns = b.spec.columns.map((_, i) => b.rows.map((r) => pgText(r[i])));
          await c.query(insert(b.spec, upsert), columns);
        }
      });
    },
    async finish() {
      // New rows written by the mirror after the copy must not collide with the copied keys.
      for (const s of [JOBS, ...LOGS]) {
        const key = s.table === 'job_events' || s.table === 'jobs' ? 'seq' : 'id';
        await pool.query(
          `SELECT setval(pg_get_serial_sequence('${s.table}', '${key}'), greatest(coalesce(max(${key}), 0), 1), max(${key}) IS NOT NULL) FROM ${s.table}`,
        );
      }
    },
  };
}

export type CopyEnd = { kind: 'sqlite'; mirror: Mirror } | { kind: 'postgres'; mirror: PgMirror };

export interface CopyProgress {
  table: string;
  /** Rows of `table` copied so far by this run. */
  copied: number;
  /** Rows of `table` in the source. */
  total: number;
}

export interface CopyMirrorOptions {
  /** Jobs (or log rows) per transaction. @default 2000 */
  batch?: number;
  /** Called after each committed batch (a progress bar). Throwing stops the copy; a later copy resumes. */
  onProgress?: (p: CopyProgress) => void;
}

export class CopyVerifyError extends Error {
  override name = 'CopyVerifyError';
}

const side = (s: CopyEnd): Side => (s.kind === 'sqlite' ? sqliteSide(s.mirror) : pgSide(s.mirror));

/**
 * Copy every row of `from` into `to` (see the file header). Resolves with the row count per table.
 * @throws CopyVerifyError when a table's counts differ at the end.
 */
export async function copyMirror(
  from: CopyEnd,
  to: CopyEnd,
  opts: CopyMirrorOptions = {},
): Promise<Record<string, number>> {
  const src = side(from);
  const dst = side(to);
  const batch = opts.batch ?? 2000;
  // Jobs with their files and metadata, a run of seqs per transaction.
  {
    const total = await src.count('jobs');
    let after = await dst.maxKey(JOBS);
    let copied = 0;
    for (;;) {
      const jobs = await src.read(JOBS, 'WHERE seq > $1', [after], batch);
      const last = jobs[jobs.length - 1];
      if (!last) break;
      const hi = last[0] as number;
      const range = 'WHERE job_seq > $1 AND job_seq <= $2';
      const files = await src.read(FILES, range, [after, hi]);
      const meta = await src.read(METADATA, range, [after, hi]);
      await dst.write([
        { spec: JOBS, rows: jobs },
        { spec: FILES, rows: files },
        { spec: METADATA, rows: meta },
      ]);
      after = hi;
      copied += jobs.length;
      opts.onProgress?.({ table: 'jobs', copied, total });
    }
  }
  for (const spec of LOGS) {
    const total = await src.count(spec.table);
    let after = await dst.maxKey(spec);
    let copied = 0;
    for (;;) {
      const rows = await src.read(spec, `WHERE ${spec.key} > $1`, [after], batch);
      const last = rows[rows.length - 1];
      if (!last) break;
      await dst.write([{ spec, rows }]);
      after = last[0] as number;
      copied += rows.length;
      opts.onProgress?.({ table: spec.table, copied, total });
    }
  }
  await dst.write(
    await Promise.all(STATE.map(async (spec) => ({ spec, rows: await src.read(spec, '', []) }))),
    true,
  );
  await dst.finish();
  const counts: Record<string, number> = {};
  for (const { table } of ALL) {
    const [a, b] = [await src.count(table), await dst.count(table)];
    if (a !== b)
      throw new CopyVerifyError(
        `copy incomplete: ${table} has ${a} row(s) in the source and ${b} in the target; was the source written during the copy? Run the copy again to resume`,
      );
    counts[table] = a;
  }
  return counts;
}

/** What a row of each keyed table is, whatever happened to it since: compared to recognise a copy's prefix. */
const IDENTITY: Record<string, readonly string[]> = {
  jobs: ['id'],
  job_events: ['event_id'],
  sync_runs: ['task', 'partition', 'started_at'],
  quarantine: ['job_id', 'observed_at'],
  event_dead_letters: ['sink', 'event_id'],
};

export interface CopyPlan {
  /** `empty`: the target holds no row; `resume`: it holds the beginning of this source (an earlier copy). */
  target: 'empty' | 'resume';
  /** Rows per table in the target before this copy, and in the source. */
  present: Record<string, number>;
  total: Record<string, number>;
}

/** The target holds rows that are not the beginning of this source: copying would merge two mirrors. */
export class CopyTargetError extends Error {
  override name = 'CopyTargetError';
}

/**
 * Decide whether `copyMirror(from, to)` may run: the target must be empty, or hold what an earlier copy of
 * this source committed — for each keyed table (jobs, events, runs, quarantine, dead letters) the source's
 * rows up to the target's largest key, recognised by their count and by the identity (job id, event id, …)
 * of the row at that key; and no sync partition or event sink the source lacks. A finished copy is such a
 * prefix too, so running the copy again resumes, catches up rows added since, and verifies.
 * @throws CopyTargetError (one line, naming the table that differs) otherwise.
 */
export async function planCopy(from: CopyEnd, to: CopyEnd): Promise<CopyPlan> {
  const src = side(from);
  const dst = side(to);
  const present: Record<string, number> = {};
  const total: Record<string, number> = {};
  for (const { table } of ALL) {
    present[table] = await dst.count(table);
    total[table] = await src.count(table);
  }
  const empty = Object.values(present).every((n) => n === 0);
  const refuse = (why: string) =>
    new CopyTargetError(
      `the target already holds a different mirror (${why}); copy into an empty database or a new file, or into the target of an interrupted copy of this same source to resume it`,
    );
  for (const spec of [JOBS, ...LOGS]) {
    const n = present[spec.table] ?? 0;
    if (n === 0) continue;
    const key = await dst.maxKey(spec);
    const ident = IDENTITY[spec.table] ?? [];
    const pick = (rows: Row[]) =>
      JSON.stringify(rows.map((r) => ident.map((c) => r[spec.columns.findIndex(([name]) => name === c)])));
    const at = `WHERE ${spec.key} = $1`;
    const [mine, theirs] = [await dst.read(spec, at, [key]), await src.read(spec, at, [key])];
    const before = await src.count(spec.table, `WHERE ${spec.key} <= $1`, [key]);
    if (pick(mine) !== pick(theirs) || before !== n)
      throw refuse(`its ${spec.table} are not the first ${n.toLocaleString('en-US')} of the source's`);
  }
  for (const spec of STATE) {
    if ((present[spec.table] ?? 0) === 0) continue;
    const keys = new Set((await src.read(spec, '', [])).map((r) => r[0]));
    const extra = (await dst.read(spec, '', [])).find((r) => !keys.has(r[0]));
    if (extra) throw refuse(`${spec.table} has ${JSON.stringify(extra[0])}, which the source has not`);
  }
  return { target: empty ? 'empty' : 'resume', present, total };
}

/**
 * Open one end of a copy: an SQLite file (created and migrated if new) or a PostgreSQL database (migrated;
 * pool of 2). node-postgres and drizzle's adapter are imported here, on first use, so the mirror barrel that
 * re-exports this module stays light for commands that never touch PostgreSQL.
 * @throws MirrorOpenError / PgMirrorOpenError (one line; messages name `MIRROR_DB`, callers may rename it)
 */
export async function openCopyEnd(
  loc: MirrorLocation,
  opts: { onUpgrade?: () => void } = {},
): Promise<CopyEnd> {
  if (loc.kind === 'sqlite') {
    const { openMirror } = await import('../openMirror.ts');
    return {
      kind: 'sqlite',
      mirror: openMirror(loc.path, opts.onUpgrade ? { onUpgrade: opts.onUpgrade } : {}),
    };
  }
  const { openPgMirror } = await import('./openPgMirror.ts');
  return {
    kind: 'postgres',
    mirror: await openPgMirror(loc.url, {
      poolSize: 2,
      ...(opts.onUpgrade ? { onUpgrade: opts.onUpgrade } : {}),
    }),
  };
}
