#!/usr/bin/env node
/**
 * The CLI entry of every documented start path (`npx retab-mirror`, `npm run demo`/`npm run cli`, PM2): it
 * runs in this very process, so Ctrl-C and PM2's SIGINT reach the program's own graceful stop (a wrapper
 * such as the tsx CLI relays the signal and SIGKILLs its child ~30 ms later).
 *
 * It runs the compiled `dist/` (built by `npm install` through the `prepare` script) when that is at least
 * as new as every file under `src/`, because loading compiled JavaScript starts about twice as fast; in a
 * checkout edited since the last build it runs the TypeScript sources through tsx's in-process loader.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const compiled = new URL('dist/cli/main.js', root);

/** Newest modification time (ms) of any file under `dir`, or 0 when it does not exist. */
function newestMtime(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (!e.isFile()) continue;
    const m = statSync(`${e.parentPath ?? e.path}/${e.name}`).mtimeMs;
    if (m > newest) newest = m;
  }
  return newest;
}

function compiledIsCurrent() {
  if (process.env.RETAB_MIRROR_FROM_SOURCE === '1' || !existsSync(compiled)) return false;
  return statSync(compiled).mtimeMs >= newestMtime(new URL('src/', root).pathname);
}

if (compiledIsCurrent()) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('src/cli/main.ts', root).href);
}
