#!/usr/bin/env node
/**
 * Bundle the CLI into a few ESM files under `dist/cli-bundle/` with esbuild, for start-up time: node loads
 * and compiles one module at a time, and an everyday command (`jobs list`, `stats`) otherwise loads ~350 of
 * them (bench/startup.ts, bench/RESULTS.md §8). `bin/retab-mirror.js` runs the bundle when it is current.
 *
 * - Entry `src/cli/main.ts`, with code splitting: every `import()` a command makes when it runs (lazyAction)
 *   stays a separate chunk, so `--help` still loads no database, queue or HTTP code.
 * - Bundled packages: only pure-JavaScript ones that read no file of their own by path (BUNDLED below): what
 *   the read commands load, and BullMQ (~170 modules for `status`; its Lua scripts are JavaScript modules,
 *   it loads ioredis with `require`, and its sandboxed processors — file paths — are not used here). Every
 *   other dependency stays an ordinary `import` of node_modules: native addons (better-sqlite3), packages
 *   that read their own files by path or start worker threads (pino's transports, ioredis' package.json),
 *   and the HTTP stack (fastify) that only long-running commands load.
 * - The output sits two folders below the package root, like `dist/cli/main.js`, so the sources'
 *   `new URL('../../package.json', import.meta.url)` and `../../drizzle` still find their files.
 * - No source maps (they would add ~5 MB to the package): a stack trace (`DEBUG=1`) names the bundle's
 *   functions as in the sources; `RETAB_MIRROR_FROM_SOURCE=1` runs the sources themselves.
 * - `dist/cli-bundle/meta.json` is esbuild's metafile: which source modules and packages each output file
 *   holds (test/foundation/startupImports.test.ts reads it).
 *
 *   node scripts/bundleCli.mjs [--outdir <dir>]   (default dist/cli-bundle; run by `npm run build`/`prepare`)
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Packages compiled into the bundle (with their own dependencies): pure JavaScript, no file read by path. */
const BUNDLED = [
  'commander',
  'zod',
  'drizzle-orm',
  're2js',
  'csv-stringify',
  'dotenv',
  'fastest-levenshtein',
  'bullmq',
];

const at = process.argv.indexOf('--outdir');
const outdir = resolve(ROOT, at > 0 ? (process.argv[at + 1] ?? '') : 'dist/cli-bundle');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const external = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })
  .filter((name) => !BUNDLED.includes(name))
  .flatMap((name) => [name, `${name}/*`]);

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // Bundled CommonJS (commander, dotenv) requires node's built-ins: give each output file a `require`.
  banner: {
    js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
  },
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
