/**
 * SQLite side of per-sink delivery state (`event_cursors`, `MirrorStore.cursors`): the last outbox seq each
 * sink acknowledged, the replay generation that goes into every delivery id, and whether the sink was
 * disabled by its receiver (410 Gone).
 */
import type { Mirror } from '../openMirror.ts';
// Cached per handle: the dispatcher reads and advances a cursor once per batch per sink.
import { prepared as stmt } from '../prepared.ts';
import type { SinkCursor } from '../store.ts';

export type { SinkCursor } from '../store.ts';

const COLUMNS =
  'sink, seq, updated_at AS updatedAt, generation, disabled_at AS disabledAt, disabled_reason AS disabledReason';

export function readCursor(mirror: Mirror, sink: string): SinkCursor | undefined {
  return stmt(mirror, `SELECT ${COLUMNS} FROM event_cursors WHERE sink = ?`).get(sink) as
    | SinkCursor
    | undefined;
}

export function getCursor(mirror: Mirror, sink: string): number | undefined {
  return readCursor(mirror, sink)?.seq;
}

/**
 * Create a sink's cursor at `seq` if it has none (first start of a sink); an existing cursor is kept, so two
 * lanes starting together, or one that lost its lease meanwhile, never move it back (see `advanceCursor`).
 */
export function setCursor(mirror: Mirror, sink: string, seq: number): void {
  stmt(
    mirror,
    'INSERT INTO event_cursors (sink, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT (sink) DO NOTHING',
  ).run(sink, seq, Date.now());
}

/**
 * Advance a cursor only if nobody moved it since it was read (compare-and-set), and only forward
 * (`seq > expected`), so that an `events replay` run while the dispatcher is delivering is not overwritten
 * by the in-flight batch, and a lane that lost its lease (sink-lane leases, events/sinkLane.ts) and writes
 * late never moves the cursor backwards: its write lands only if the cursor is still where it read it, and
 * then moves it over events it delivered itself. This is why the cursor needs no fencing token: the
 * compare-and-set is the fence. Returns false when the cursor had been moved.
 */
export function advanceCursor(mirror: Mirror, sink: string, expected: number, seq: number): boolean {
  if (!(seq > expected)) return false;
  const r = stmt(mirror, 'UPDATE event_cursors SET seq = ?, updated_at = ? WHERE sink = ? AND seq = ?').run(
    seq,
    Date.now(),
    sink,
    expected,
  );
  return r.changes === 1;
}

export function listCursors(mirror: Mirror): SinkCursor[] {
  return mirror.sqlite.prepare(`SELECT ${COLUMNS} FROM event_cursors ORDER BY sink`).all() as SinkCursor[];
}

/**
 * Rewind (or forward) a sink so the dispatcher delivers again from `fromSeq` on (`events replay`), under a
 * new generation: every re-sent event gets a new delivery id (so the events queue, which drops a job id it
 * already holds, takes it again) while its `eventId` stays the same. Works while a dispatcher runs: its
 * in-flight batch will not overwrite the new cursor. Returns the new cursor (`fromSeq - 1`). A `fromSeq` past
 * `max seq + 1` throws a RangeError: that cursor would skip events written later.
 */
export function replayFrom(mirror: Mirror, sink: string, fromSeq: number): number {
  if (!Number.isInteger(fromSeq) || fromSeq < 1)
    throw new RangeError(`--from-seq must be an integer >= 1, got ${fromSeq}`);
  // Past the end the cursor would silently skip events not written yet; max + 1 (skip history) is the limit.
  const max =
    (stmt(mirror, 'SELECT max(seq) AS max FROM job_events').get() as { max: number | null }).max ?? 0;
  if (fromSeq > max + 1)
    throw new RangeError(
      `--from-seq ${fromSeq} is past the end of the outbox (last seq ${max}): use at most ${max + 1} (${max + 1} skips to the end)`,
    );
  stmt(
    mirror,
    `INSERT INTO event_cursors (sink, seq, updated_at, generation) VALUES (?, ?, ?, 1)
       ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at,
         generation = event_cursors.generation + 1`,
  ).run(sink, fromSeq - 1, Date.now());
  return fromSeq - 1;
}

/** Mark a sink disabled (its receiver answered 410 Gone). Returns false when it already was. */
export function disableSink(mirror: Mirror, sink: string, reason: string): boolean {
  const r = stmt(
    mirror,
    `UPDATE event_cursors SET disabled_at = ?, disabled_reason = ?, updated_at = ?
       WHERE sink = ? AND disabled_at IS NULL`,
  ).run(Date.now(), reason.slice(0, 500), Date.now(), sink);
  return r.changes === 1;
}

/** Clear a sink's disabled mark (`events enable`); delivery resumes from its cursor. False if it was not disabled. */
export function enableSink(mirror: Mirror, sink: string): boolean {
  const r = stmt(
    mirror,
    'UPDATE event_cursors SET disabled_at = NULL, disabled_reason = NULL, updated_at = ? WHERE sink = ? AND disabled_at IS NOT NULL',
  ).run(Date.now(), sink);
  return r.changes === 1;
}
