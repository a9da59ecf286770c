/**
 * Open the mirror named by `MIRROR_DB` as a `MirrorStore`: the one factory every process (CLI, worker,
 * server, demo) goes through, so a second implementation plugs in here and nowhere else.
 *
 * Dispatch: `storeKindOf(location)` says which implementation serves a location, and `openStore` opens it.
 * Today every location is an SQLite file path (a `postgres://…` string included: it names a file, exactly
 * as before, until the PostgreSQL store exists). Issue #21 adds the PostgreSQL store by (1) recognising
 * `postgres://` / `postgresql://` in `storeKindOf` (a typo'd scheme is refused there, exit 2) and (2) filling
 * the `postgres` branch of `openStore` (connect, migrate under an advisory lock). Consumers change nothing.
 */
import { MirrorOpenError, type OpenMirrorOptions, openMirror } from './openMirror.ts';
import type { MirrorStore, StoreKind } from './store.ts';

export { MirrorOpenError } from './openMirror.ts';

export interface OpenStoreOptions extends OpenMirrorOptions {}

/** Which implementation serves `location` (see the file header). */
export function storeKindOf(_location: string): StoreKind {
  return 'sqlite';
}

/**
 * `location` with any URL password masked (`postgres://user:***@host/db`), for messages and `status`; a file
 * path is returned as given.
 */
export function displayLocation(location: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location;
  try {
    const url = new URL(location);
    if (url.password === '') return location;
    url.password = '***';
    return url.toString();
  } catch {
    return location.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

/**
 * Open (create and migrate unless `readonly`) the mirror at `location`.
 * @throws MirrorOpenError (rejects) with a one-line reason naming the location: not a mirror, written by a
 *   newer version, missing while read-only, unreadable.
 */
export async function openStore(location: string, opts: OpenStoreOptions = {}): Promise<MirrorStore> {
  const kind = storeKindOf(location);
  switch (kind) {
    case 'sqlite':
      return openMirror(location, opts);
    case 'postgres':
      // Unreachable until storeKindOf recognises PostgreSQL URLs (issue #21 fills this branch).
      throw new MirrorOpenError(`${displayLocation(location)}: no PostgreSQL store in this build`);
  }
}
