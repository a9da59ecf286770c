/**
 * The one prepared-statement cache: statements per database handle and SQL text, so the hot paths (one page
 * = hundreds of statements; one query = a few, their text set by which filters are given) compile each text
 * once per open mirror, not once per call. Every SQLite statement the mirror runs more than once goes
 * through here (the writes, the reads, the queries); other folders reach it through `mirror/index.ts`.
 *
 * A mode set on a statement (`pluck()`, `raw()`) stays on the cached one: a caller that sets one sets it on
 * every use of its text (as reads.ts does).
 *
 * Bounded: query texts vary with the filters given, so a handle holds at most `MAX_STATEMENTS`; past that
 * the cache starts over (statements already handed out keep working; the hot ones are compiled again once).
 */
import type { Database, Statement } from 'better-sqlite3';

/** Texts cached per handle at most (the writes use ~20; queries add one per filter combination used). */
export const MAX_STATEMENTS = 512;

const caches = new WeakMap<Database, Map<string, Statement>>();

/**
 * The prepared statement for `sql` on this mirror (or raw better-sqlite3 handle), compiled on first use.
 * Throws what `Database.prepare` throws for invalid SQL (nothing is cached then).
 */
export function prepared(db: { sqlite: Database } | Database, sql: string): Statement {
  const sqlite = 'sqlite' in db ? db.sqlite : db;
  let cache = caches.get(sqlite);
  if (!cache) {
    cache = new Map();
    caches.set(sqlite, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    if (cache.size >= MAX_STATEMENTS) cache.clear();
    stmt = sqlite.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}
