/**
 * Prepared statements cached per database handle: the hot paths (one page = hundreds of statements) compile
 * each SQL text once per open mirror, not once per call.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Mirror } from './openMirror.ts';

const caches = new WeakMap<Database, Map<string, Statement>>();

export function prepared(mirror: Mirror, sql: string): Statement {
  let cache = caches.get(mirror.sqlite);
  if (!cache) {
    cache = new Map();
    caches.set(mirror.sqlite, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = mirror.sqlite.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}
