/**
 * Each folder under src/ is one concept with a deliberate surface: a module in `src/A/` reaches a module of
 * another folder `src/B/` only through `src/B/index.ts`, its barrel (issue #20). A top-level module
 * (`src/config.ts`, `log.ts`, `backoff.ts`, `credentials.ts`, `terminal.ts`, `retabMirror.ts`) is its own
 * barrel, and `src/config.ts` is the barrel of `src/config/`. Inside a folder (and its sub-folders) modules
 * import each other freely.
 *
 * What counts: every import that names a module: `import`, `import type`, `export … from`, and dynamic
 * `import()`. Type-only imports count too: they cost nothing at run time (TypeScript erases them), so going
 * through the barrel is free and keeps the surface the one place to look.
 *
 * The one kind of exception: a light path may import a LEAF directly, a module with no run-time imports of
 * its own, so that it loads that module alone rather than the folder behind the barrel. The pairs are listed
 * in `LEAF_IMPORTS` with the reason, and the test checks each listed target is still a leaf. (One listed
 * pair is type-only: events/eventModel.ts, which the front end's type check reads, names retab/schemas.ts.)
 *
 * A dynamic `import()` whose argument is not a string literal cannot be checked (its target is known only at
 * run time), so src/ has none except those listed in `NON_LITERAL_IMPORTS` with the reason. Every script
 * file under src/ is read (`.ts`, `.mts`, `.cts`, `.tsx`, `.js`, `.mjs`, `.cjs`, `.jsx`), not only `.ts`.
 *
 * A second rule keeps the barrels from making cycles: the folders' run-time imports (type-only ones are
 * erased, so they cannot) form no cycle, so no barrel is ever evaluated half-done.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

interface LeafImport {
  from: RegExp;
  to: RegExp;
  why: string;
}

/** Direct imports of leaves that the rule allows (paths relative to src/). */
const LEAF_IMPORTS: LeafImport[] = [
  {
    from: /^cli\/(main|program)\.ts$|^cli\/commands\//,
    to: /^(config\/(choices|errors)|retab\/(sources|listEnvelope)|events\/eventModel|mirror\/statsGroupBy)\.ts$/,
    why: '`retab-mirror --help` loads the command declarations only: the barrels would load zod, SQLite or BullMQ (test/foundation/startupImports.test.ts)',
  },
  {
    from: /^(mirror\/outbox|config\/alerting)\.ts$/,
    to: /^events\/eventModel\.ts$/,
    why: 'the outbox writer and the alert-rule schema need the event types on paths (`jobs list`, any config load) that must not load BullMQ, which events/index.ts brings with the queue sink',
  },
  {
    from: /^events\/eventModel\.ts$/,
    to: /^retab\/schemas\.ts$/,
    why: "the front end's type check (web/tsconfig.json, browser libs) reads eventModel.ts: through retab/index.ts it would reach Node-only modules",
  },
];

/**
 * Files allowed a dynamic `import()` of a computed specifier (src-relative path -> why). None today: a
 * computed import would hide its target from the barrel rule, so one needs a reason written here.
 */
const NON_LITERAL_IMPORTS: Record<string, string> = {};

/** Script files the rules read: TypeScript and JavaScript of every module flavour. */
const SCRIPT = /\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/;

/** One import of a module by another: paths relative to src/. */
interface ModuleImport {
  from: string;
  to: string;
  /** Erased at run time: `import type`, `export type … from`, or every name marked `type`. */
  typeOnly: boolean;
  dynamic: boolean;
  line: number;
  /** A dynamic `import()` whose specifier is computed (`to` is then `?`). */
  computed?: boolean;
}

/** The top-level folder (or top-level module name) a src-relative path belongs to. */
function conceptOf(path: string): string {
  const [first = '', ...rest] = path.split('/');
  return rest.length === 0 ? first.replace(SCRIPT, '') : first;
}

function barrelOf(concept: string): string {
  return concept === 'config' ? 'config.ts' : `${concept}/index.ts`;
}

const isTopLevel = (path: string) => !path.includes('/');

/** Every relative import in one source file (`text` at src-relative `path`). */
function importsOf(path: string, text: string): ModuleImport[] {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: ModuleImport[] = [];
  const add = (spec: ts.Node, typeOnly: boolean, dynamic: boolean) => {
    if (!ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return;
    const to = relative(SRC, resolve(SRC, dirname(path), spec.text));
    const line = sf.getLineAndCharacterOfPosition(spec.getStart()).line + 1;
    found.push({ from: path, to, typeOnly, dynamic, line });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allTyped =
        !!clause &&
        !clause.name &&
        !!named &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, !!clause?.isTypeOnly || allTyped, false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const named = node.exportClause;
      const allTyped =
        !!named &&
        ts.isNamedExports(named) &&
        named.elements.length > 0 &&
        named.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, node.isTypeOnly || allTyped, false);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) add(arg, false, true);
      else {
        const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        found.push({ from: path, to: '?', typeOnly: false, dynamic: true, line, computed: true });
      }
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(arg.literal, true, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Why an import breaks the barrel rule, or null when it keeps it. */
function bypass(imp: ModuleImport): string | null {
  if (imp.computed)
    return imp.from in NON_LITERAL_IMPORTS
      ? null
      : `src/${imp.from}:${imp.line} imports a computed specifier (dynamic): name the module in a string literal, or list the file in NON_LITERAL_IMPORTS with the reason`;
  const from = conceptOf(imp.from);
  const to = conceptOf(imp.to);
  if (from === to) return null;
  if (imp.to === barrelOf(to) || isTopLevel(imp.to)) return null;
  if (LEAF_IMPORTS.some((l) => l.from.test(imp.from) && l.to.test(imp.to))) return null;
  return `src/${imp.from}:${imp.line} imports src/${imp.to}${imp.typeOnly ? ' (type-only)' : ''}${imp.dynamic ? ' (dynamic)' : ''}: import it from src/${barrelOf(to)}`;
}

/** A cycle among the folders' run-time static imports, as `a -> b -> a`, or null. */
function folderCycle(imports: ModuleImport[]): string | null {
  const edges = new Map<string, Set<string>>();
  for (const imp of imports) {
    if (imp.typeOnly || imp.dynamic) continue;
    const from = conceptOf(imp.from);
    const to = conceptOf(imp.to);
    if (from === to) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from)?.add(to);
  }
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const walk = (node: string): string | null => {
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node].join(' -> ');
    if (state.get(node) === 'done') return null;
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = walk(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of edges.keys()) {
    const cycle = walk(node);
    if (cycle) return cycle;
  }
  return null;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : SCRIPT.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const all = sources(SRC).flatMap((f) => importsOf(relative(SRC, f), readFileSync(f, 'utf8')));

describe('folder surfaces', () => {
  it('every cross-folder import goes through the folder’s index.ts', () => {
    expect(all.length).toBeGreaterThan(300);
    expect(all.map(bypass).filter((b) => b !== null)).toEqual([]);
  });

  it('each allowed direct run-time import names a leaf: a module with no run-time imports', () => {
    const direct = all.filter(
      (imp) =>
        conceptOf(imp.from) !== conceptOf(imp.to) &&
        imp.to !== barrelOf(conceptOf(imp.to)) &&
        !isTopLevel(imp.to),
    );
    const leaves = new Set(direct.filter((imp) => !imp.typeOnly).map((imp) => imp.to));
    expect([...leaves].sort()).toEqual([
      'config/choices.ts',
      'config/errors.ts',
      'events/eventModel.ts',
      'mirror/statsGroupBy.ts',
      'retab/listEnvelope.ts',
      'retab/sources.ts',
    ]);
    for (const leaf of leaves) {
      const runtime = all.filter((imp) => imp.from === leaf && !imp.typeOnly);
      expect(runtime, `${leaf} must stay a leaf`).toEqual([]);
    }
    // The one type-only direct import (erased at run time): the front end's view of the event model.
    expect(direct.filter((imp) => imp.typeOnly).map((imp) => `${imp.from} -> ${imp.to}`)).toEqual([
      'events/eventModel.ts -> retab/schemas.ts',
    ]);
  });

  it('the folders’ run-time imports form no cycle', () => {
    expect(folderCycle(all)).toBeNull();
  });

  it('the checks catch a planted bypass, of every kind, and a planted cycle', () => {
    const planted = (path: string, text: string) => importsOf(path, text).map(bypass);
    expect(planted('sync/x.ts', "import { openStore } from '../mirror/openStore.ts';")[0]).toMatch(
      /src\/sync\/x\.ts:1 imports src\/mirror\/openStore\.ts: import it from src\/mirror\/index\.ts/,
    );
    expect(planted('sync/x.ts', "import type { MirrorStore } from '../mirror/store.ts';")[0]).toMatch(
      /type-only/,
    );
    expect(planted('sync/x.ts', "import { type MirrorStore } from '../mirror/store.ts';")[0]).toMatch(
      /type-only/,
    );
    expect(planted('sync/x.ts', "export { openStore } from '../mirror/openStore.ts';")[0]).not.toBeNull();
    expect(planted('sync/x.ts', "type D = import('../mirror/store.ts').MirrorStore;")[0]).not.toBeNull();
    expect(planted('cli/x.ts', "const m = await import('../queue/worker.ts');")[0]).toMatch(/dynamic/);
    expect(planted('index.ts', "export { startWorker } from './queue/worker.ts';")[0]).not.toBeNull();
    expect(planted('config.ts', "export { SETTINGS } from './config/settings.ts';")).toEqual([null]);
    expect(planted('cli/x.ts', "import { loadConfig } from '../config/loadConfig.ts';")[0]).toMatch(
      /import it from src\/config\.ts/,
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: planted source text, a template literal on purpose
    expect(planted('cli/x.ts', 'const m = await import(`../queue/${name}.ts`);')[0]).toMatch(
      /computed specifier/,
    );
    expect(planted('cli/x.ts', 'const m = await import(path);')[0]).toMatch(/computed specifier/);
    expect(planted('sync/x.mts', "import { openStore } from '../mirror/openStore.ts';")[0]).not.toBeNull();
    expect(planted('sync/x.js', "const m = await import('../mirror/openStore.js');")[0]).toMatch(/dynamic/);
    expect(['a.ts', 'a.mts', 'a.cts', 'a.js', 'a.mjs', 'a.cjs', 'a.tsx'].every((f) => SCRIPT.test(f))).toBe(
      true,
    );
    // Allowed: the barrel, a top-level module, the same folder, a listed leaf from a listed importer.
    expect(planted('sync/x.ts', "import { openStore } from '../mirror/index.ts';")).toEqual([null]);
    expect(planted('sync/x.ts', "import { sleep } from '../backoff.ts';")).toEqual([null]);
    expect(planted('mirror/sqlite/x.ts', "import { applyPage } from '../applyPage.ts';")).toEqual([null]);
    expect(planted('cli/commands/x.ts', "import { SOURCES } from '../../retab/sources.ts';")).toEqual([null]);
    expect(planted('cli/x.ts', "import { SOURCES } from '../retab/sources.ts';")[0]).not.toBeNull();

    const cycle = [
      ...importsOf('server/a.ts', "import { x } from '../console/index.ts';"),
      ...importsOf('console/b.ts', "import { y } from '../server/index.ts';"),
    ];
    expect(folderCycle(cycle)).toBe('server -> console -> server');
    const erased = [
      ...cycle.slice(0, 1),
      ...importsOf('console/b.ts', "import type { Y } from '../server/index.ts';"),
    ];
    expect(folderCycle(erased)).toBeNull();
  });
});
