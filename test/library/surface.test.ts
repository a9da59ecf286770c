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
});
