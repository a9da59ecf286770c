#!/usr/bin/env node
/**
 * The CLI entry of every documented start path (`npx retab-mirror`, `npm run demo`/`npm run cli`, PM2): it
 * runs in this very process, so Ctrl-C and PM2's SIGINT reach the program's own graceful stop (a wrapper
 * such as the tsx CLI relays the signal and SIGKILLs its child ~30 ms later).
 *
 * It runs the first of these that is at least as new as every source file under `src/` (`*.ts`, `*.js`… — not an
 * editor's swap or backup file) and as `package.json`, `node_modules/.package-lock.json` (written by every
 * `npm install`/`npm update`, which don't rebuild: the bundle inlines its dependencies) and
 * `scripts/bundleCli.mjs`: the bundled CLI (`dist/cli-bundle/`,
 * built by `npm install` through the `prepare` script, scripts/bundleCli.mjs: a few files instead of ~350
 * modules, about twice as fast again to start), then the compiled `dist/` (tsc alone), else — in a checkout
 * edited since the last build — the TypeScript sources through tsx's in-process loader
 * (bench/startup.ts; `RETAB_MIRROR_FROM_SOURCE=1` forces the sources). Falling back to the sources because the
 * builds are stale prints one hint line to stderr when stderr is a terminal (scripts parsing stderr see nothing).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const bundled = new URL('dist/cli-bundle/main.js', root);
const compiled = new URL('dist/cli/main.js', root);

/** Source files: what a build is made from. Dot-files (`.x.ts.swp`) and backups (`x.ts~`, `x.ts.orig`) are not. */
const SOURCE_FILE = /^[^.].*\.(?:[cm]?[jt]sx?|json)$/;

/** Newest modification time (ms) of any source file under `dir`, or 0 when it does not exist. */
function newestMtime(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (!e.isFile() || !SOURCE_FILE.test(e.name)) continue;
    const m = statSync(`${e.parentPath ?? e.path}/${e.name}`).mtimeMs;
    if (m > newest) newest = m;
  }
  return newest;
}

/** The newest build that is current, or undefined when the sources must run. */
function currentBuild() {
  if (process.env.RETAB_MIRROR_FROM_SOURCE === '1') return undefined;
  const builds = [bundled, compiled].filter((b) => existsSync(b));
  if (builds.length === 0) return undefined;
  const inputs = ['package.json', 'node_modules/.package-lock.json', 'scripts/bundleCli.mjs'].map((f) => {
    try {
      return statSync(new URL(f, root)).mtimeMs;
    } catch {
      return 0;
    }
  });
  const newest = Math.max(newestMtime(new URL('src/', root).pathname), ...inputs);
  const build = builds.find((b) => statSync(b).mtimeMs >= newest);
  if (!build && process.stderr.isTTY)
    process.stderr.write(
      'retab-mirror: running from sources (the build is older than src/ or node_modules); `npm run build` makes commands start ~5× faster\n',
    );
  return build;
}

const build = currentBuild();
if (build) {
  await import(build.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('src/cli/main.ts', root).href);
}
