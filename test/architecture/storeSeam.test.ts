/**
 * The store seam (src/mirror/store.ts) is the only way into the mirror: outside src/mirror/, no file imports
 * the SQLite driver or drizzle's SQLite adapter, reaches for the raw handles (`.sqlite`, `.db`, however
 * spelled: `m['sqlite']`, `const { sqlite } = m`) or names the `SqliteStore` class, so a second store
 * (PostgreSQL, issue #21) only has to implement `MirrorStore`. Every script file (`.ts`, `.mts`, `.js`, …)
 * is read, parsed with the TypeScript API.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : /\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  );
}

const DRIVER = /^(better-sqlite3|drizzle-orm\/(better-sqlite3|sqlite-core))(\/|$)/;
/** The raw handles of a SQLite store (`SqliteStore.sqlite`, `SqliteStore.db`). */
const RAW = new Set(['sqlite', 'db']);
/**
 * Receivers whose `.db` is not a store handle: commander's parsed options (`retab-mirror demo --db PATH`).
 * The check reads text, not types, so such a receiver is named here with its reason.
 */
const NOT_A_STORE = new Set(['opts']);
/** The SQLite layer's classes, which code outside src/mirror/ must not name. */
const CLASSES = new Set(['SqliteStore']);

/**
 * Every breach of the seam in `text` (parsed with the TypeScript API, so comments and strings never count),
 * as `rule (line n)`: an import of the driver (static, type-only, `import()` or `import('…')` type), a
 * property `sqlite`/`db` read by `.x`, `['x']` or destructuring, or `SqliteStore` named at all
 * (`instanceof`, an import, a type).
 */
function breaches(text: string, path = 'x.ts'): string[] {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const at = (n: ts.Node, rule: string) =>
    found.push(`${rule} (line ${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1})`);
  const spec = (n: ts.Node | undefined) => {
    if (n && ts.isStringLiteralLike(n) && DRIVER.test(n.text)) at(n, `imports ${n.text}`);
  };
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) spec(n.moduleSpecifier);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword)
      spec(n.arguments[0]);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) spec(n.argument.literal);
    else if (
      ts.isPropertyAccessExpression(n) &&
      RAW.has(n.name.text) &&
      !(n.name.text === 'db' && NOT_A_STORE.has(n.expression.getText(sf)))
    )
      at(n.name, `touches the raw SQLite handle (.${n.name.text})`);
    else if (
      ts.isElementAccessExpression(n) &&
      ts.isStringLiteralLike(n.argumentExpression) &&
      RAW.has(n.argumentExpression.text)
    )
      at(n, `touches the raw SQLite handle (['${n.argumentExpression.text}'])`);
    else if (ts.isBindingElement(n) && ts.isObjectBindingPattern(n.parent)) {
      const key = n.propertyName ?? n.name;
      if ((ts.isIdentifier(key) || ts.isStringLiteralLike(key)) && RAW.has(key.text))
        at(n, `touches the raw SQLite handle ({ ${key.text} })`);
    } else if (ts.isIdentifier(n) && CLASSES.has(n.text)) at(n, `names ${n.text}`);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

describe('the store seam', () => {
  it('no file outside src/mirror/ imports the SQLite driver or touches `.sqlite`', () => {
    const offenders = sources(SRC)
      .filter((f) => !relative(SRC, f).startsWith(`mirror${'/'}`))
      .flatMap((f) => breaches(readFileSync(f, 'utf8'), f).map((b) => `src/${relative(SRC, f)}: ${b}`));
    expect(offenders).toEqual([]);
  });

  it('the check sees each kind of breach', () => {
    expect(breaches("import Database from 'better-sqlite3';")).toHaveLength(1);
    expect(breaches("import type Database from 'better-sqlite3';")).toHaveLength(1);
    expect(breaches("type D = import('better-sqlite3').Database;")).toHaveLength(1);
    expect(breaches("import { drizzle } from 'drizzle-orm/better-sqlite3';")).toHaveLength(1);
    expect(breaches("const n = mirror.sqlite.prepare('SELECT 1').get();")).toHaveLength(1);
    expect(breaches("const path = './data/mirror.sqlite';")).toHaveLength(0);
    expect(breaches('// the raw handle (`mirror.sqlite`) stays inside')).toHaveLength(0);
    expect(breaches('const { sqlite } = m;')).toHaveLength(1);
    expect(breaches('const { sqlite: raw } = m;')).toHaveLength(1);
    expect(breaches("const raw = m['sqlite'];")).toHaveLength(1);
    expect(breaches('const d = m.db;')).toHaveLength(1);
    expect(breaches('run({ dbPath: opts.db });')).toHaveLength(0);
    expect(breaches('if (m instanceof SqliteStore) m.close();')).toHaveLength(1);
    expect(breaches("import { SqliteStore } from '../mirror/index.ts';")).toHaveLength(1);
    expect(breaches("const m = await import('better-sqlite3');")).toHaveLength(1);
  });
});
