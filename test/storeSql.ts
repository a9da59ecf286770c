/**
 * Raw SQL on any store (test/stores.ts), for the few assertions the seam has no read for (a derived column, a
 * count of `job_files`, a payload flag): `?` placeholders, written in the SQL both dialects share (`NOT
 * has_request` rather than `= 0`). Tests only; src/ never reaches past the seam (storeSeam.test.ts).
 */
import type { MirrorStore } from '../src/mirror/index.ts';
import { PgStore } from '../src/mirror/pg/pgStore.ts';
import { SqliteStore } from '../src/mirror/sqlite/sqliteStore.ts';

/** Rows of `text` with `params` bound to its `?`s, as the driver returns them (PostgreSQL: int8 as string). */
export async function sqlRows<T = Record<string, unknown>>(
  store: MirrorStore,
  text: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  if (store instanceof SqliteStore) return store.sqlite.prepare(text).all(...params) as T[];
  if (!(store instanceof PgStore)) throw new Error(`sqlRows: unknown store ${store.kind}`);
  let n = 0;
  const r = await store.mirror.pool.query(
    text.replace(/\?/g, () => `$${++n}`),
    [...params],
  );
  return r.rows as T[];
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
