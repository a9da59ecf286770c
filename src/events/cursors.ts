/** Per-sink delivery cursors (`event_cursors`): the last outbox seq each sink acknowledged. */
import type { Mirror } from '../mirror/openMirror.ts';
// Cached per handle: the dispatcher reads and advances a cursor once per batch per sink.
import { prepared as stmt } from '../mirror/prepared.ts';

export function getCursor(mirror: Mirror, sink: string): number | undefined {
  const row = stmt(mirror, 'SELECT seq FROM event_cursors WHERE sink = ?').get(sink) as
    | { seq: number }
    | undefined;
  return row?.seq;
}

/** Set a cursor unconditionally (first start of a sink, `events replay`). */
export function setCursor(mirror: Mirror, sink: string, seq: number): void {
  stmt(
    mirror,
    `INSERT INTO event_cursors (sink, seq, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`,
  ).run(sink, seq, Date.now());
}

/**
 * Advance a cursor only if nobody moved it since it was read (compare-and-set), so that an
 * `events replay` run while the dispatcher is delivering is not overwritten by the in-flight batch.
 * Returns false when the cursor had been moved.
 */
export function advanceCursor(mirror: Mirror, sink: string, expected: number, seq: number): boolean {
  const r = stmt(mirror, 'UPDATE event_cursors SET seq = ?, updated_at = ? WHERE sink = ? AND seq = ?').run(
    seq,
    Date.now(),
    sink,
    expected,
  );
  return r.changes === 1;
}

export function listCursors(mirror: Mirror): { sink: string; seq: number; updatedAt: number }[] {
  return mirror.sqlite
    .prepare('SELECT sink, seq, updated_at AS updatedAt FROM event_cursors ORDER BY sink')
    .all() as { sink: string; seq: number; updatedAt: number }[];
}

/**
 * Rewind (or forward) a sink so the dispatcher delivers again from `fromSeq` on (`events replay`).
 * Works while a dispatcher runs: its in-flight batch will not overwrite the new cursor.
 */
export function replayFrom(mirror: Mirror, sink: string, fromSeq: number): number {
  if (!Number.isInteger(fromSeq) || fromSeq < 1)
    throw new Error(`--from-seq must be an integer >= 1, got ${fromSeq}`);
  setCursor(mirror, sink, fromSeq - 1);
  return fromSeq - 1;
}
