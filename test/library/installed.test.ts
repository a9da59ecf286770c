/**
 * The package as a user installs it: a copy of this checkout installed into a fresh project with
 * `npm install <folder>` (npm runs its `prepare` script, which compiles `dist/`), then the README's library
 * example run as written with node against the simulator. The copy keeps the build away from the checkout's
 * own `dist/`, which other tests' CLI runs may be loading.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let sim: Simulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'installed-'));
  sim = await startSimulator({ seed: 21, jobs: 80, days: 2 });
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The README's library example, from the code block after "**Library**". */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /\*\*Library\*\*[^\n]*\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README: no ```ts block after **Library**');
  return block;
}

it("npm install <folder> builds the package; the README's library example runs as written", async () => {
  const pkg = join(dir, 'retab-mirror');
  const files = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).files as string[];
  for (const f of [...files.filter((f) => f !== 'dist'), 'package.json', 'README.md'])
    cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
  // Its dependencies (and the TypeScript compiler `prepare` needs) as installed for this checkout: offline.
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));

  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  const install = spawnSync('npm', ['install', pkg, '--offline', '--no-audit', '--no-fund'], {
    cwd: app,
    encoding: 'utf8',
    timeout: 240_000,
  });
  expect(install.status, install.stderr).toBe(0);

  writeFileSync(join(app, 'example.mjs'), readmeExample());
  // Asynchronously: the simulator answering it lives in this process.
  const child = spawn(process.execPath, ['example.mjs'], {
    cwd: app,
    env: { ...process.env, RETAB_API_KEY: sim.apiKey, RETAB_BASE_URL: sim.url, LOG_LEVEL: 'silent' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const run = { status: await new Promise<number | null>((r) => child.on('close', r)), stderr };
  expect(run.status, run.stderr).toBe(0);
  const db = new Database(join(app, 'data/mirror.db'), { readonly: true });
  try {
    expect((db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n).toBe(sim.store.size);
  } finally {
    db.close();
  }
}, 300_000);
