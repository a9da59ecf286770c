/** The one-line error a failed run records and the CLI prints: database errors say what to check. */
import { describe, expect, it } from 'vitest';
import { describeError, isRetryable } from '../../src/sync/taskRun.ts';

const sqliteError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('describeError', () => {
  it('names the database code and what to do about it', () => {
    expect(describeError(sqliteError('SQLITE_READONLY', 'attempt to write a readonly database'))).toBe(
      'database error (SQLITE_READONLY): attempt to write a readonly database (check that MIRROR_DB and its folder are writable by this user)',
    );
    // Extended codes get their primary code's hint.
    expect(describeError(sqliteError('SQLITE_READONLY_DBMOVED', 'x'))).toMatch(/writable by this user\)$/);
    expect(describeError(sqliteError('SQLITE_FULL', 'database or disk is full'))).toMatch(
      /\(free disk space where MIRROR_DB lives\)$/,
    );
    expect(describeError(sqliteError('SQLITE_BUSY', 'database is locked'))).toMatch(
      /on MIRROR_DB; one writer per file\)$/,
    );
    expect(describeError(sqliteError('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed'))).toBe(
      'database error (SQLITE_CONSTRAINT_UNIQUE): UNIQUE constraint failed',
    );
  });

  it('keeps other errors to their message, on one line', () => {
    expect(describeError(new Error('upstream\n  said no'))).toBe('upstream said no');
    expect(describeError('plain')).toBe('plain');
  });
});

describe('isRetryable (database errors)', () => {
  it('a busy or briefly unreachable database is retried; a broken or refused one is not', () => {
    for (const code of ['SQLITE_BUSY', '57P01', '08006', '40P01', '40001', '53300', 'ECONNREFUSED'])
      expect(isRetryable(sqliteError(code, 'x')), code).toBe(true);
    expect(isRetryable(new Error('Connection terminated unexpectedly'))).toBe(true);
    for (const code of ['SQLITE_CORRUPT', 'SQLITE_FULL', '28P01', '42P01', '23505'])
      expect(isRetryable(sqliteError(code, 'x')), code).toBe(false);
    expect(isRetryable(new Error('boom'))).toBe(false);
  });
});
