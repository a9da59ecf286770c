/**
 * The one statement cache (src/mirror/prepared.ts): shared by the mirror's writes, reads and queries.
 * SQLite only (issue #21): better-sqlite3's prepared statements; PostgreSQL sends its statements as text.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { prepareCached } from '../../src/mirror/buildWhere.ts';
import { MAX_STATEMENTS, prepared } from '../../src/mirror/index.ts';
import { type TempMirror, tempMirror } from './factory.ts';

let t: TempMirror;
beforeEach(() => {
  t = tempMirror();
});
afterEach(() => t.cleanup());

it('compiles a text once per handle, whether reached through the mirror, its handle or the query layer', () => {
  const sql = 'SELECT count(*) AS n FROM jobs';
  const a = prepared(t.mirror, sql);
  expect(prepared(t.mirror.sqlite, sql)).toBe(a);
  expect(prepareCached(t.mirror.sqlite, sql)).toBe(a);
  expect(a.get()).toEqual({ n: 0 });
});

it('holds at most MAX_STATEMENTS texts per handle; statements handed out keep working', () => {
  const first = prepared(t.mirror, 'SELECT 0 AS v');
  for (let i = 1; i <= MAX_STATEMENTS; i++) prepared(t.mirror, `SELECT ${i} AS v`);
  expect(prepared(t.mirror, 'SELECT 0 AS v')).not.toBe(first);
  expect(first.get()).toEqual({ v: 0 });
});
