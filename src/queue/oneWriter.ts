/**
 * `retab-mirror worker` on an SQLite mirror is its only writer (mirror/writerLock.ts): a second worker, or a
 * worker while a demo writes the file, is refused at start in one line that says why and what to do instead.
 * Several workers need the mirror on PostgreSQL, which is not locked.
 */
import type { Config } from '../config.ts';
import { lockMirrorWriter, MirrorWriterBusy, storeKindOf } from '../mirror/index.ts';

/**
 * Take the writer lock of `config.dbPath` when it is an SQLite file (a no-op for PostgreSQL). Returns the
 * release function.
 * @throws MirrorWriterBusy (its message the one line to print) when another live process writes the file.
 */
export function lockSqliteWriter(config: Pick<Config, 'dbPath'>): () => void {
  if (storeKindOf(config.dbPath) !== 'sqlite') return () => {};
  try {
    return lockMirrorWriter(config.dbPath, 'worker');
  } catch (err) {
    if (!(err instanceof MirrorWriterBusy)) throw err;
    err.message =
      err.holder.role === 'worker'
        ? `MIRROR_DB ${err.message}. To run several workers, copy the mirror to PostgreSQL (retab-mirror copy --from ${err.path} --to postgres://…) and point every worker at it.`
        : `MIRROR_DB ${err.message}. Stop the ${err.holder.role} first, or point MIRROR_DB at another file.`;
    throw err;
  }
}
