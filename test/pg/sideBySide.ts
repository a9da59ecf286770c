/**
 * One PostgreSQL mirror and one SQLite mirror side by side for a test file, to compare their answers on the
 * same writes: a fresh ICU en-US database (answers must not depend on the database's locale) and a temp
 * SQLite file, opened before the file's tests (then `fill` writes the same pages into both) and closed and
 * removed after them.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Mirror } from '../../src/mirror/index.ts';
import { openPgMirror, type PgMirror } from '../../src/mirror/pg/openPgMirror.ts';
import { type TempMirror, tempMirror } from '../mirror/factory.ts';
import { createTestDatabase, type TestDatabase } from './pgDatabase.ts';

export interface SideBySide {
  pgm: PgMirror;
  lite: Mirror;
}

export function sideBySide(fill: (m: SideBySide) => Promise<void> | void): void {
  let db: TestDatabase | undefined;
  let pgm: PgMirror | undefined;
  let t: TempMirror | undefined;
  beforeAll(async () => {
    db = await createTestDatabase({ icuLocale: 'en-US' });
    pgm = await openPgMirror(db.url);
    t = tempMirror();
    await fill({ pgm, lite: t.mirror });
  });
  afterAll(async () => {
    await pgm?.close();
    await db?.drop();
    t?.cleanup();
  });
}
