/**
 * The store seam (src/mirror/store.ts) is the only way into the mirror: outside src/mirror/, no file imports
 * the SQLite driver or drizzle's SQLite adapter, or reaches for the raw handle (`.sqlite`), so a second store
 * (PostgreSQL, issue #21) only has to implement `MirrorStore`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const RULES: [string, RegExp][] = [
  ['imports better-sqlite3', /from\s+['"]better-sqlite3['"]|import\(\s*['"]better-sqlite3['"]\s*\)/],
  ['imports drizzle-orm/better-sqlite3', /['"]drizzle-orm\/better-sqlite3[^'"]*['"]/],
  ['imports drizzle-orm/sqlite-core', /['"]drizzle-orm\/sqlite-core['"]/],
  ['touches the raw SQLite handle (.sqlite)', /\.sqlite\b(?!['"`])/],
];

/** Every breach of the seam in `text`, as `rule (line n)`. */
function breaches(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (/^\s*(\*|\/\/)/.test(line)) return; // comments may name them
    for (const [rule, re] of RULES) if (re.test(line)) found.push(`${rule} (line ${i + 1})`);
  });
  return found;
}

describe('the store seam', () => {
  it('no file outside src/mirror/ imports the SQLite driver or touches `.sqlite`', () => {
    const offenders = sources(SRC)
      .filter((f) => !relative(SRC, f).startsWith(`mirror${'/'}`))
      .flatMap((f) => breaches(readFileSync(f, 'utf8')).map((b) => `src/${relative(SRC, f)}: ${b}`));
    expect(offenders).toEqual([]);
  });

  it('the check sees each kind of breach', () => {
    expect(breaches("import Database from 'better-sqlite3';")).toHaveLength(1);
    expect(breaches("import type Database from 'better-sqlite3';")).toHaveLength(1);
    expect(breaches("type D = import('better-sqlite3').Database;")).toHaveLength(1);
    expect(breaches("import { drizzle } from 'drizzle-orm/better-sqlite3';")).toHaveLength(1);
    expect(breaches("const n = mirror.sqlite.prepare('SELECT 1').get();")).toHaveLength(1);
    expect(breaches("const path = './data/mirror.sqlite';")).toHaveLength(0);
    expect(breaches(' * the raw handle (`mirror.sqlite`) stays inside')).toHaveLength(0);
  });
});
