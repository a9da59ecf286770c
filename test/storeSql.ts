/**
 * Raw SQL on any store (test/stores.ts), for the few assertions the seam has no read for (a derived column, a
 * count of `job_files`, a payload flag): `?` placeholders, written in the SQL both dialects share (`NOT
 * has_request` rather than `= 0`). Tests only; src/ never reaches past the seam (storeSeam.test.ts).
 */
import { getJobRow, type JobRow, type MirrorStore } from '../src/mirror/index.ts';
import { PgStore } from '../src/mirror/pg/pgStore.ts';
import { getJobRowPg } from '../src/mirror/pg/readsPg.ts';
import { SqliteStore } from '../src/mirror/sqlite/sqliteStore.ts';

function pgText(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** Rows of `text` with `params` bound to its `?`s, as the driver returns them (PostgreSQL: int8 as string). */
export async function sqlRows<T = Record<string, unknown>>(
  store: MirrorStore,
  text: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  if (store instanceof SqliteStore) return store.sqlite.prepare(text).all(...params) as T[];
  if (!(store instanceof PgStore)) throw new Error(`sqlRows: unknown store ${store.kind}`);
  const r = await store.mirror.pool.query(pgText(text), [...params]);
  return r.rows as T[];
}

/** Run a statement that returns no rows (an UPDATE behind the seam's back); resolves the rows changed. */
export async function sqlRun(
  store: MirrorStore,
  text: string,
  params: readonly unknown[] = [],
): Promise<number> {
  if (store instanceof SqliteStore) return store.sqlite.prepare(text).run(...params).changes;
  if (!(store instanceof PgStore)) throw new Error(`sqlRun: unknown store ${store.kind}`);
  return (await store.mirror.pool.query(pgText(text), [...params])).rowCount ?? 0;
}

/** One stored job row (every column, as `getJobRow` returns it on SQLite), or undefined. */
export async function jobRow(store: MirrorStore, id: string): Promise<JobRow | undefined> {
  if (store instanceof SqliteStore) return getJobRow(store, id);
  if (!(store instanceof PgStore)) throw new Error(`jobRow: unknown store ${store.kind}`);
  return getJobRowPg(store.mirror.pool, id);
}

/** The first column of the first row of `text`, as a number (a `count(*)`). */
export async function sqlCount(
  store: MirrorStore,
  text: string,
  params: readonly unknown[] = [],
): Promise<number> {
  const [row] = await sqlRows(store, text, params);
  return Number(Object.values(row ?? {})[0]);
}
