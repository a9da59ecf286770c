/**
 * Which build `bin/retab-mirror.js` runs: the bundle (`dist/cli-bundle/`) when it is at least as new as every
 * file under `src/`, else the tsc output (`dist/cli/`) when that is, else the sources through tsx — checked on
 * a scratch package whose three entries each print their name, with their modification times set by hand.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
let pkg: string;

const ENTRIES = {
  bundle: 'dist/cli-bundle/main.js',
  compiled: 'dist/cli/main.js',
  sources: 'src/cli/main.ts',
} as const;

beforeAll(() => {
  pkg = mkdtempSync(join(tmpdir(), 'launcher-'));
  mkdirSync(join(pkg, 'bin'));
  copyFileSync(join(root, 'bin/retab-mirror.js'), join(pkg, 'bin/retab-mirror.js'));
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  for (const [name, path] of Object.entries(ENTRIES)) {
    mkdirSync(dirname(join(pkg, path)), { recursive: true });
    writeFileSync(join(pkg, path), `process.stdout.write(${JSON.stringify(name)});\n`);
  }
});
afterAll(() => rmSync(pkg, { recursive: true, force: true }));

/** Set each entry's modification time (seconds since the epoch), then run the launcher: what did it run? */
function runs(mtimes: Record<keyof typeof ENTRIES, number>, env: Record<string, string> = {}): string {
  for (const [name, path] of Object.entries(ENTRIES)) {
    const t = mtimes[name as keyof typeof ENTRIES];
    utimesSync(join(pkg, path), t, t);
  }
  const r = spawnSync(process.execPath, [join(pkg, 'bin/retab-mirror.js')], {
    encoding: 'utf8',
    env: { ...process.env, RETAB_MIRROR_FROM_SOURCE: '', ...env },
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const T = 1_700_000_000;

it('runs the bundle when it is current, even if the tsc output is too', () => {
  expect(runs({ sources: T, compiled: T + 10, bundle: T + 10 })).toBe('bundle');
  // npm packs every file with the same time: equal counts as current.
  expect(runs({ sources: T, compiled: T, bundle: T })).toBe('bundle');
});

it('falls back to the tsc output when only that is current, then to the sources', () => {
  expect(runs({ sources: T + 10, compiled: T + 20, bundle: T })).toBe('compiled');
  expect(runs({ sources: T + 30, compiled: T + 20, bundle: T })).toBe('sources');
});

it('RETAB_MIRROR_FROM_SOURCE=1 runs the sources whatever the builds', () => {
  expect(runs({ sources: T, compiled: T + 10, bundle: T + 10 }, { RETAB_MIRROR_FROM_SOURCE: '1' })).toBe(
    'sources',
  );
});
