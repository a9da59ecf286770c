import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lib from '../../src/index.ts';

// The library's runtime surface, on purpose: adding or removing a name is a decision, made here.
const PUBLIC = [
  'AuthenticationError',
  'BadRequestError',
  'ConfigError',
  'ConnectionError',
  'EventsConfigError',
  'InternalServerError',
  'InvalidCursorError',
  'InvalidResponseError',
  'MirrorOpenError',
  'NotFoundError',
  'PermissionDeniedError',
  'RateLimitError',
  'RetabApiError',
  'RetabConfigError',
  'RetabError',
  'RetabParamsError',
  'SyncTaskError',
  'TimeoutError',
  'UnprocessableEntityError',
  'createRetabMirror',
  'openRetabMirror',
  'loadConfig',
  'startSimulator',
  'startWorker',
  'verifyWebhookSignature',
];

describe('public surface (src/index.ts)', () => {
  it('exports exactly the facades, errors, verifyWebhookSignature and startSimulator', () => {
    expect(Object.keys(lib).sort()).toEqual([...PUBLIC].sort());
  });

  it('exports only error classes besides the named functions', () => {
    const functions = new Set([
      'createRetabMirror',
      'openRetabMirror',
      'loadConfig',
      'startSimulator',
      'startWorker',
      'verifyWebhookSignature',
    ]);
    for (const [name, value] of Object.entries(lib)) {
      if (functions.has(name)) continue;
      expect((value as { prototype?: unknown }).prototype, name).toBeInstanceOf(Error);
    }
  });

  it('a mirror that cannot be opened throws the exported MirrorOpenError from the facade', () => {
    const dir = mkdtempSync(join(tmpdir(), 'surface-'));
    try {
      const dbPath = join(dir, 'not-a-mirror.db');
      writeFileSync(
        dbPath,
        'this is not an SQLite database, it is plain text of more than 100 bytes '.repeat(4),
      );
      let thrown: unknown;
      try {
        lib.createRetabMirror({ config: { apiKey: 'test-key', dbPath } }).close();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(lib.MirrorOpenError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
