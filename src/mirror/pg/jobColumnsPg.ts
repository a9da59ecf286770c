/**
 * The `jobs` column lists of the PostgreSQL statements, derived from the one list (../jobColumns.ts) as the
 * SQLite statements are, so a column added there reaches every PostgreSQL write, read and copy without
 * being spelled out again. Each column's PostgreSQL type comes from the pg-core schema (schema.ts, the same
 * keys), so the `unnest($n::type[])` casts follow the table.
 */
import { getTableColumns } from 'drizzle-orm';
import { type ColumnKey, JOB_COLUMN_ENTRIES, JOB_COLUMNS, PAYLOAD_KEYS, STORED_KEYS } from '../jobColumns.ts';
import { ROW_TO_JOB_COLUMNS } from '../rowToJob.ts';
import { jobs } from './schema.ts';

const SCHEMA = getTableColumns(jobs);

/** A column's SQL type on PostgreSQL (`text`, `bigint`, `integer`, `boolean`), as schema.ts declares it. */
export function pgTypeOf(key: ColumnKey | 'seq'): string {
  return SCHEMA[key].getSQLType();
}

/** `sql AS "key"` (quoted: PostgreSQL folds unquoted aliases to lower case). */
const aliased = (prefix: string, keys: readonly ColumnKey[]) =>
  keys.map((k) => `${prefix}${JOB_COLUMNS[k].sql} AS "${k}"`).join(', ');

/** `seq` and every stored column (no payloads) under its StoredJob name: what the merge reads. */
export const PG_STORED_JOB_COLUMNS = `seq, ${aliased('', STORED_KEYS)}`;

/** The stored columns and the payloads: a whole row (`JobRow`). */
export const PG_JOB_ROW_COLUMNS = `${PG_STORED_JOB_COLUMNS}, ${aliased('', PAYLOAD_KEYS)}`;

/** The columns `rowToJob` reads (the served ones and `extra`), of `jobs AS j`. */
export const PG_ROW_TO_JOB_COLUMNS = ROW_TO_JOB_COLUMNS.map(([sql, k]) => `j.${sql} AS "${k}"`).join(', ');

/** `[sql name, pg type]` of every column of `jobs`, `seq` first: what a copy moves. */
export const PG_JOB_TABLE_COLUMNS: readonly (readonly [string, string])[] = [
  ['seq', pgTypeOf('seq')],
  ...JOB_COLUMN_ENTRIES.map(([k, c]) => [c.sql, pgTypeOf(k)] as const),
];
