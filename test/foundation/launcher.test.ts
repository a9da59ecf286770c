/**
 * Which build `bin/retab-mirror.js` runs: the bundle (`dist/cli-bundle/`) when it is at least as new as every
 * source file under `src/`, `package.json` and `node_modules/.package-lock.json`, else the tsc output
 * (`dist/cli/`) when that is, else the sources through tsx — checked on a scratch package whose three entries
 * each print their name, with their modification times set by hand.
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
  // A node_modules of its own, so its .package-lock.json's time is the test's: tsx alone, linked.
  mkdirSync(join(pkg, 'node_modules'));
  symlinkSync(join(root, 'node_modules/tsx'), join(pkg, 'node_modules/tsx'));
  writeFileSync(join(pkg, 'node_modules/.package-lock.json'), '{}\n');
  for (const [name, path] of Object.entries(ENTRIES)) {
    mkdirSync(dirname(join(pkg, path)), { recursive: true });
    writeFileSync(join(pkg, path), `process.stdout.write(${JSON.stringify(name)});\n`);
  }
});
afterAll(() => rmSync(pkg, { recursive: true, force: true }));

const T = 1_700_000_000;

/**
 * Set each entry's modification time (seconds since the epoch; `package.json` and the lock file at `T` unless
 * given), then run the launcher: what did it run?
 */
function runs(
  mtimes: Record<keyof typeof ENTRIES, number> & { packageJson?: number; lock?: number },
  env: Record<string, string> = {},
): string {
  for (const [name, path] of Object.entries(ENTRIES)) {
    const t = mtimes[name as keyof typeof ENTRIES];
    utimesSync(join(pkg, path), t, t);
  }
  utimesSync(join(pkg, 'package.json'), mtimes.packageJson ?? T, mtimes.packageJson ?? T);
  utimesSync(join(pkg, 'node_modules/.package-lock.json'), mtimes.lock ?? T, mtimes.lock ?? T);
  const r = spawnSync(process.execPath, [join(pkg, 'bin/retab-mirror.js')], {
    encoding: 'utf8',
    env: { ...process.env, RETAB_MIRROR_FROM_SOURCE: '', ...env },
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  // Not a terminal: no hint, so scripts that parse stderr see nothing.
  expect(r.stderr).toBe('');
  return r.stdout;
}

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

it("ignores an editor's swap and backup files under src/", () => {
  const junk = ['src/cli/.main.ts.swp', 'src/cli/main.ts~', 'src/cli/main.ts.orig'];
  for (const f of junk) {
    writeFileSync(join(pkg, f), '');
    utimesSync(join(pkg, f), T + 50, T + 50);
  }
  try {
    expect(runs({ sources: T, compiled: T + 10, bundle: T + 10 })).toBe('bundle');
  } finally {
    for (const f of junk) rmSync(join(pkg, f));
  }
});

it('treats the builds as stale after a dependency update (npm install/update do not rebuild)', () => {
  expect(runs({ sources: T, compiled: T + 10, bundle: T + 10, lock: T + 20 })).toBe('sources');
  expect(runs({ sources: T, compiled: T + 30, bundle: T + 10, lock: T + 20 })).toBe('compiled');
  expect(runs({ sources: T, compiled: T + 10, bundle: T + 10, packageJson: T + 20 })).toBe('sources');
});

/** The launcher's terminal output (stdout and stderr together) when stderr is a terminal, through script(1). */
function inTerminal(env: Record<string, string>): string {
  const r = spawnSync(
    'script',
    [
      '-qec',
      `${JSON.stringify(process.execPath)} ${JSON.stringify(join(pkg, 'bin/retab-mirror.js'))}`,
      '/dev/null',
    ],
    { encoding: 'utf8', env: { ...process.env, RETAB_MIRROR_FROM_SOURCE: '', ...env }, timeout: 30_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

it('says once, in a terminal, that a stale build makes it run the sources — not when they are asked for', () => {
  runs({ sources: T + 30, compiled: T + 20, bundle: T });
  const stale = inTerminal({});
  expect(stale).toContain('sources');
  expect(stale.match(/retab-mirror: running from sources .*npm run build/g)).toHaveLength(1);
  expect(inTerminal({ RETAB_MIRROR_FROM_SOURCE: '1' })).not.toContain('npm run build');
  runs({ sources: T, compiled: T + 10, bundle: T + 10 });
  expect(inTerminal({})).not.toContain('npm run build');
});
