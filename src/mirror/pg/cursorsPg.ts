/** Per-sink delivery state (`event_cursors`) on PostgreSQL: the same rules as ../../events/cursors.ts. */
import type pg from 'pg';
import type { SinkCursor } from '../../events/index.ts';

const COLUMNS = `sink, seq, updated_at AS "updatedAt", generation, disabled_at AS "disabledAt",
  disabled_reason AS "disabledReason"`;

export async function readCursorPg(pool: pg.Pool, sink: string): Promise<SinkCursor | undefined> {
  const r = await pool.query<SinkCursor>(`SELECT ${COLUMNS} FROM event_cursors WHERE sink = $1`, [sink]);
  return r.rows[0];
}

export async function getCursorPg(pool: pg.Pool, sink: string): Promise<number | undefined> {
  return (await readCursorPg(pool, sink))?.seq;
}

/** Create a sink's cursor at `seq` if it has none (first start of a sink); an existing one is kept. */
export async function setCursorPg(pool: pg.Pool, sink: string, seq: number): Promise<void> {
  await pool.query(
    'INSERT INTO event_cursors (sink, seq, updated_at) VALUES ($1, $2, $3) ON CONFLICT (sink) DO NOTHING',
    [sink, seq, Date.now()],
  );
}

/**
 * Compare-and-set, forward only: advance only if nobody moved the cursor since it was read, and only to a
 * higher seq (why this is the fence of a lane that lost its lease: ../sqlite/cursors.ts `advanceCursor`).
 * False when it had been moved.
 */
export async function advanceCursorPg(
  pool: pg.Pool,
  sink: string,
  expected: number,
  seq: number,
): Promise<boolean> {
  if (!(seq > expected)) return false;
  const r = await pool.query(
    'UPDATE event_cursors SET seq = $1, updated_at = $2 WHERE sink = $3 AND seq = $4',
    [seq, Date.now(), sink, expected],
  );
  return r.rowCount === 1;
}

/** Every sink's cursor, by sink name (bytewise, as SQLite orders it). */
export async function listCursorsPg(pool: pg.Pool): Promise<SinkCursor[]> {
  const r = await pool.query<SinkCursor>(`SELECT ${COLUMNS} FROM event_cursors ORDER BY sink COLLATE "C"`);
  return r.rows;
}

/** `events replay` (see ../../events/cursors.ts `replayFrom`): returns the new cursor, `fromSeq - 1`. */
export async function replayFromPg(pool: pg.Pool, sink: string, fromSeq: number): Promise<number> {
  if (!Number.isInteger(fromSeq) || fromSeq < 1)
    throw new RangeError(`--from-seq must be an integer >= 1, got ${fromSeq}`);
  const max =
    (await pool.query<{ max: number | null }>('SELECT max(seq) AS max FROM job_events')).rows[0]?.max ?? 0;
  if (fromSeq > max + 1)
    throw new RangeError(
      `--from-seq ${fromSeq} is past the end of the outbox (last seq ${max}): use at most ${max + 1} (${max + 1} skips to the end)`,
    );
  await pool.query(
    `INSERT INTO event_cursors (sink, seq, updated_at, generation) VALUES ($1, $2, $3, 1)
       ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at,
         generation = event_cursors.generation + 1`,
    [sink, fromSeq - 1, Date.now()],
  );
  return fromSeq - 1;
}

/** Mark a sink disabled (its receiver answered 410 Gone). False when it already was. */
export async function disableSinkPg(pool: pg.Pool, sink: string, reason: string): Promise<boolean> {
  const now = Date.now();
  const r = await pool.query(
    `UPDATE event_cursors SET disabled_at = $1, disabled_reason = $2, updated_at = $1
       WHERE sink = $3 AND disabled_at IS NULL`,
    [now, reason.slice(0, 500), sink],
  );
  return r.rowCount === 1;
}

/** Clear a sink's disabled mark (`events enable`). False if it was not disabled. */
export async function enableSinkPg(pool: pg.Pool, sink: string): Promise<boolean> {
  const r = await pool.query(
    'UPDATE event_cursors SET disabled_at = NULL, disabled_reason = NULL, updated_at = $1 WHERE sink = $2 AND disabled_at IS NOT NULL',
    [Date.now(), sink],
  );
  return r.rowCount === 1;
}
