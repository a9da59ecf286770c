/**
 * What the CLI loads to answer: `--help` builds the whole program from the light declarations
 * (src/cli/commands/) without the database, queue, HTTP, sync or config-schema modules, and `jobs list`
 * loads no queue, server or terminal-drawing module. Checked by recording every module a real CLI process
 * loads (ESM through a loader hook, CommonJS through `require.cache`), so this test does not depend on how
 * fast the machine is (bench/startup.ts measures the time) — both ways `bin/retab-mirror.js` runs it:
 * - from the sources (tsx), where each loaded file is one source module or package file;
 * - from the bundle (scripts/bundleCli.mjs, built here into a scratch copy of the package), where a loaded
 *   output file stands for every source module and package esbuild put in it (its metafile says which).
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandPath, type RegisterActions, recordedAction } from '../../src/cli/commands/lazyAction.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { openMirror } from '../../src/mirror/openMirror.ts';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/retab-mirror.js');
const cliDir = join(root, 'src/cli/');
let dir: string;
/** The bundle's entry, built for this test (the checkout's own `dist/` may be stale or being rebuilt). */
let bundleMain: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'startup-imports-'));
  // Runs in the loader's own thread: append each module's URL as it is loaded.
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.RECORD_IMPORTS_TO, url + '\\n');
  return next(url, context);
}
`,
  );
  writeFileSync(
    join(dir, 'record.mjs'),
    `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register(new URL('./hooks.mjs', import.meta.url));
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(process.env.RECORD_IMPORTS_TO, Object.keys(require.cache).join('\\n') + '\\n'));
`,
  );
  openMirror(join(dir, 'mirror.db')).close();
  // A scratch package root: the bundle reads ../../package.json and ../../drizzle, and imports node_modules.
  const pkg = join(dir, 'pkg');
  mkdirSync(pkg);
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  for (const linked of ['drizzle', 'node_modules']) symlinkSync(join(root, linked), join(pkg, linked));
  const outdir = join(pkg, 'dist/cli-bundle');
  const build = spawnSync(process.execPath, [join(root, 'scripts/bundleCli.mjs'), '--outdir', outdir], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(build.status, build.stderr).toBe(0);
  bundleMain = join(outdir, 'main.js');
}, 90_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Way = 'sources' | 'bundle';

/** What the bundle's metafile says an output file (by name) holds: source modules and packages. */
function bundleContents(outdir: string): Map<string, string[]> {
  const meta = JSON.parse(readFileSync(join(outdir, 'meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  return new Map(Object.entries(meta.outputs).map(([out, o]) => [basename(out), Object.keys(o.inputs)]));
}

/** The packages (by name) and source modules (`cli/jobsCommand`) a CLI run loaded. */
function loadedBy(way: Way, args: string[]): { packages: Set<string>; modules: string[] } {
  const out = join(dir, `loaded-${way}-${args.join('-').replace(/\W+/g, '_')}.txt`);
  const [entry, from] = way === 'bundle' ? [bundleMain, '0'] : [bin, '1'];
  const r = spawnSync(process.execPath, ['--import', join(dir, 'record.mjs'), entry, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      MIRROR_DB: join(dir, 'mirror.db'),
      LOG_LEVEL: 'silent',
      RECORD_IMPORTS_TO: out,
      RETAB_MIRROR_FROM_SOURCE: from,
    },
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  let lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  if (way === 'bundle') {
    const outdir = dirname(bundleMain);
    const contents = bundleContents(outdir);
    const outputs = lines.filter((l) => l.includes(outdir)).map((l) => basename(l));
    expect(outputs).toContain('main.js');
    lines = [...lines, ...outputs.flatMap((o) => contents.get(o) ?? [])];
  }
  const packages = new Set<string>();
  const modules: string[] = [];
  for (const line of lines) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line)?.[1];
    if (pkg) packages.add(pkg);
    else {
      const own = /(?:^|\/)src\/(.+)\.[jt]s$/.exec(line)?.[1];
      if (own) modules.push(own);
    }
  }
  return { packages, modules };
}

const SERVICES = ['bullmq', 'ioredis', 'fastify', '@fastify/static', 'prom-client', 'p-retry'];
const TERMINAL = ['pino-pretty', 'cli-progress'];
/** Modules that do the work: none is needed to print the help. (`events/types` only names the event types.) */
const IMPLEMENTATION =
  /^(sync|queue|server|demo|simulator|console)\/|^events\/(?!types$|eventModel$)|^mirror\/openMirror$|^cli\/\w+Command$/;

describe.each<Way>(['sources', 'bundle'])('CLI start-up imports, from the %s', (way) => {
  it('--help loads commander and the declarations only: no database, queue, HTTP, zod or logger', () => {
    const { packages, modules } = loadedBy(way, ['--help']);
    expect(packages.has('commander')).toBe(true);
    for (const heavy of [...SERVICES, ...TERMINAL, 'better-sqlite3', 'drizzle-orm', 'zod', 'pino'])
      expect(packages, heavy).not.toContain(heavy);
    expect(modules).toContain('cli/commands/jobs');
    expect(modules.filter((m) => IMPLEMENTATION.test(m) || m === 'config/settings')).toEqual([]);
  });

  it('jobs list loads its own implementation, and no queue, HTTP, sync, logger or terminal-drawing module', () => {
    const { packages, modules } = loadedBy(way, ['jobs', 'list', '--limit', '5']);
    expect(modules).toContain('cli/jobsCommand');
    expect(packages).toContain('better-sqlite3');
    // pino loads when a logger is built (src/log.ts), and `jobs list` logs nothing.
    for (const heavy of [...SERVICES, ...TERMINAL, 'pino']) expect(packages, heavy).not.toContain(heavy);
    expect(modules.filter((m) => /^(sync|queue|server|demo|simulator)\//.test(m))).toEqual([]);
    expect(modules.filter((m) => /^cli\/\w+Command$/.test(m)).sort()).toEqual([
      'cli/exportCommand', // the shared filter parsing and job formats
      'cli/jobsCommand',
    ]);
  });
});

it('the bundle carries no zod locale but English: zod is imported as `import * as z`, which esbuild can shake', () => {
  // `import { z } from 'zod'` makes esbuild keep zod's whole namespace: every locale and the JSON-schema
  // converters, ~750 KB that each command touching a schema would parse (bench/RESULTS.md §8).
  const inputs = [...bundleContents(dirname(bundleMain)).values()].flat();
  expect(inputs.some((i) => i.includes('node_modules/zod/'))).toBe(true);
  expect(inputs.filter((i) => /node_modules\/zod\/.*locales\/(?!en\.js)[\w-]+\.js$/.test(i))).toEqual([]);
});

describe('command declarations and implementations', () => {
  it('every declared command has exactly one implementation, which declares no options of its own', async () => {
    const registers: [string, RegisterActions][] = [];
    for (const file of readdirSync(cliDir).filter((f) => f.endsWith('Command.ts'))) {
      const mod = (await import(join(cliDir, file))) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod))
        if (/^register\w+Command$/.test(name)) registers.push([file, value as RegisterActions]);
    }
    const leaves: string[][] = [];
    const walk = (cmd: Command) => {
      if (cmd.commands.length === 0) leaves.push(commandPath(cmd));
      for (const sub of cmd.commands) walk(sub);
    };
    walk(buildProgram());
    expect(leaves.length).toBeGreaterThan(15);
    for (const path of leaves) {
      const implementedBy = registers.filter(([, register]) => {
        try {
          recordedAction(register, path);
          return true;
        } catch {
          return false;
        }
      });
      expect(implementedBy.map(([file]) => file).length, path.join(' ')).toBe(1);
    }
  });

  it('an implementation that declares options is refused, naming where they belong', () => {
    const register: RegisterActions = (program) => {
      program
        .command('jobs')
        .command('list')
        .option('--limit <n>')
        .action(() => {});
    };
    expect(() => recordedAction(register, ['jobs', 'list'])).toThrow(/declare them in src\/cli\/commands/);
    expect(() => recordedAction(register, ['jobs', 'get'])).toThrow(/attaches no action/);
  });
});
