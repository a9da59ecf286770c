/**
 * The console's built files are committed (web/dist), so `npm install && npm run demo` needs no build step.
 * This keeps them honest: building the sources again gives exactly the committed files.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { expect, it } from 'vitest';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

it('web/dist is what `npm run build:web` makes from web/src (run it and commit web/dist when this fails)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'retab-web-'));
  try {
    await build({
      configFile: join(WEB, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir: out, emptyOutDir: true },
    });
    const built = files(out);
    const committed = files(join(WEB, 'dist'));
    expect([...committed.keys()].sort()).toEqual([...built.keys()].sort());
    for (const [name, text] of built) expect(committed.get(name), name).toBe(text);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
