/**
 * Bring a bench mirror's filename index up to date. bench/queries.ts builds its mirror with backfill pages,
 * and a backfill's pages leave indexing to the next page that is not one (issue #24: indexing a batch per
 * backfill page cost the cold-backfill target): a mirror built of backfill pages alone is never indexed,
 * so its filename queries would measure the plan without the index. This does what that next page does,
 * 50k jobs per transaction, until every job is indexed. Returns the jobs it indexed.
 */
import { catchUpFilenameIndex } from '../src/mirror/filenameIndex.ts';
import { openMirror } from '../src/mirror/openMirror.ts';

export function filenameIndexReady(path: string): number {
  const m = openMirror(path);
  try {
    const db = m.sqlite;
    const step = db.transaction(() => catchUpFilenameIndex((sql) => db.prepare(sql), 0));
    let indexed = 0;
    for (let n = step(); n > 0; n = step()) indexed += n;
    return indexed;
  } finally {
    m.close();
  }
}
