import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  createRetabMirror,
  InvalidCursorError,
  RetabError,
  type RetabMirror,
} from '../../src/index.ts';

let m: RetabMirror | undefined;
afterAll(async () => {
  await m?.close();
});

describe('errors a library user catches', () => {
  it('an unknown cursor in list() is the exported InvalidCursorError (instanceof holds)', async () => {
    m = createRetabMirror({
      config: {
        apiKey: 'sk_test_library_errors',
        baseUrl: 'http://127.0.0.1:9',
        dbPath: join(mkdtempSync(join(tmpdir(), 'lib-err-')), 'm.db'),
      },
    });
    let caught: unknown;
    try {
      await m.list({ after: 'job_unknown' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidCursorError);
    expect(caught).toBeInstanceOf(BadRequestError);
    expect(caught).toBeInstanceOf(RetabError);
    expect((caught as InvalidCursorError).code).toBe('invalid_cursor');
    expect((caught as InvalidCursorError).message).toContain('job_unknown');
  });
});
