/**
 * Open the mirror named by `MIRROR_DB` as a `MirrorStore`: the one factory every process (CLI, worker,
 * server, demo, library) goes through, so consumers never know which implementation serves them.
 *
 * Dispatch: `storeKindOf(location)` classifies the location (pg/mirrorLocation.ts): a `postgres://` or
 * `postgresql://` URL is a PostgreSQL database (`PgStore`: a pool of `poolSize` connections, migrated under
 * an advisory lock), anything else without a scheme an SQLite file (`SqliteStore`). A URL with another or a
 * typo'd scheme (`postgress://`, `mysql://`) is refused with `MirrorLocationError` (the CLI exits 2), never
 * taken for a file name.
 */

import { parseMirrorLocation } from '../mirrorLocation.ts';
import { type OpenMirrorOptions, openMirror } from './openMirror.ts';
import type { MirrorStore, StoreKind } from './store.ts';

export { MirrorLocationError } from '../mirrorLocation.ts';
export { MirrorOpenError } from './openMirror.ts';

export interface OpenStoreOptions extends OpenMirrorOptions {
  /** PostgreSQL: connections in the pool at most (`MIRROR_DB_POOL_SIZE`). @default 10 */
  poolSize?: number;
  /** PostgreSQL: how long to wait for a connection, ms. @default 10000 */
  connectTimeoutMs?: number;
  /** PostgreSQL: server-side limit of each user query (list, stats, export batch), ms. @default 30000 */
  statementTimeoutMs?: number;
  /**
   * PostgreSQL: the server ends a session whose transaction sat idle this long, ms (a writer frozen inside
   * one; pg/openPgMirror.ts). The worker passes LEASE_TTL_MS. @default 30000
   */
  idleInTransactionTimeoutMs?: number;
}

/**
 * Which implementation serves `location` (see the file header).
 * @throws MirrorLocationError for a URL whose scheme is neither postgres nor postgresql, or that does not parse.
 */
export function storeKindOf(location: string): StoreKind {
  return parseMirrorLocation(location).kind;
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
 * @throws MirrorLocationError (rejects) for a URL with an unsupported or typo'd scheme.
 * @throws MirrorOpenError (rejects) with a one-line reason naming the location (password masked): not a
 *   mirror, written by a newer version, missing while read-only, unreadable; on PostgreSQL a
 *   `PgMirrorOpenError` whose `retryable` says whether waiting may help (server unreachable or starting).
 */
export async function openStore(location: string, opts: OpenStoreOptions = {}): Promise<MirrorStore> {
  const loc = parseMirrorLocation(location);
  switch (loc.kind) {
    case 'sqlite': {
      const {
        poolSize: _p,
        connectTimeoutMs: _c,
        statementTimeoutMs: _s,
        idleInTransactionTimeoutMs: _i,
        ...sqlite
      } = opts;
      return openMirror(location, sqlite);
    }
    case 'postgres': {
      // Loaded on this path only: an SQLite user never loads the pg driver.
      const { openPgMirror } = await import('./pg/openPgMirror.ts');
      const { PgStore } = await import('./pg/pgStore.ts');
      const mirror = await openPgMirror(loc.url, {
        ...(opts.poolSize !== undefined ? { poolSize: opts.poolSize } : {}),
        ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
        ...(opts.readonly !== undefined ? { readonly: opts.readonly } : {}),
        ...(opts.idleInTransactionTimeoutMs !== undefined
          ? { idleInTransactionTimeoutMs: opts.idleInTransactionTimeoutMs }
          : {}),
        ...(opts.onUpgrade
          ? {
              onUpgrade: (i: { location: string; pending: number }) =>
                opts.onUpgrade?.({ path: i.location, pending: i.pending }),
            }
          : {}),
      });
      return new PgStore(mirror, {
        ...(opts.statementTimeoutMs !== undefined ? { statementTimeoutMs: opts.statementTimeoutMs } : {}),
      });
    }
  }
}
