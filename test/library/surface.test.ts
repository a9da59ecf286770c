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

describe('the facade’s types and errors', () => {
  it('names the types a caller of list, stats, sync and on needs', () => {
    // Compile-time: each import below must exist in src/index.ts (tsc checks the tests).
    const options: lib.StatsOptions = { groupBy: 'status' };
    const sync: lib.RetabMirrorSyncOptions = {};
    const listener: lib.MirrorListener<'job.discovered'> = () => {};
    const list: lib.JobList | undefined = undefined;
    const stats: lib.StatsResult | undefined = undefined;
    const once: Partial<lib.SyncOnceOptions> = sync;
    expect([options.groupBy, once, typeof listener, list, stats]).toEqual([
      'status',
      {},
      'function',
      undefined,
      undefined,
    ]);
  });

  it('list and stats with bad parameters reject with the exported RetabParamsError, naming the parameter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'surface-params-'));
    const m = await lib.openRetabMirror({ config: { apiKey: 'test-key', dbPath: join(dir, 'm.db') } });
    try {
      const bad = async (p: Promise<unknown>) => {
        const err = await p.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(lib.RetabParamsError);
        return (err as InstanceType<typeof lib.RetabParamsError>).params;
      };
      expect(await bad(m.list({ limit: 0 }))).toEqual(['limit']);
      expect(await bad(m.list({ order: 'sideways' } as never))).toEqual(['order']);
      expect(await bad(m.stats({ groupBy: 'nope' } as never))).toEqual(['groupBy']);
      expect(await bad(m.stats({ groupBy: 'status', from: 'garbage' }))).toEqual(['from']);
      expect(await bad(m.stats({ groupBy: 'status', to: '2026-13-40' }))).toEqual(['to']);
      expect(await bad(m.stats({ groupBy: 'status', filters: { metadata: 'x' } as never }))).toEqual([
        'metadata',
      ]);
      expect((await m.stats({ groupBy: 'status', from: '2026-11-01' })).rows).toBeDefined();
    } finally {
      await m.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
