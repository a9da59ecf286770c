/**
 * CLI start-up: how long an everyday command takes to answer, from the process start to its exit, as
 * `bin/retab-mirror.js` runs it — from the compiled `dist/` (what an install runs) and from the TypeScript
 * sources through tsx's loader (a checkout edited since its last build) — against the floor of starting
 * node itself (`node -e 0`), all measured in this run. Target: the compiled CLI answers `--help` and a
 * `jobs list` in well under half a second, i.e. within a few node start-ups.
 *
 *   npx tsx bench/startup.ts [--quick]   (--quick: 5 runs each instead of 15)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openMirror } from '../src/mirror/openMirror.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/retab-mirror.js');
const runs = process.argv.includes('--quick') ? 5 : 15;

// The compiled CLI must be current, as after `npm install` (which runs `prepare`).
if (!existsSync(join(ROOT, 'dist/cli/main.js')) || process.argv.includes('--build')) {
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
}

const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
const db = join(dir, 'mirror.db');
openMirror(db).close();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Median wall time of `node <args>`, ms (one unmeasured warm-up run first). */
function time(args: string[], env: Record<string, string> = {}): number {
  const samples: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, {
      env: { ...process.env, MIRROR_DB: db, LOG_LEVEL: 'silent', ...env },
      stdio: 'ignore',
    });
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
    if (i > 0) samples.push(performance.now() - t0);
  }
  return median(samples);
}

const compiledCurrent = statSync(join(ROOT, 'dist/cli/main.js')).mtimeMs > 0;
const floor = time(['-e', '0']);
const rows: [string, number, number][] = [];
for (const [label, args] of [
  ['--help', ['--help']],
  ['jobs list (empty mirror)', ['jobs', 'list']],
] as const) {
  const compiled = time([BIN, ...args]);
  const source = time([BIN, ...args], { RETAB_MIRROR_FROM_SOURCE: '1' });
  rows.push([label, compiled, source]);
}
rmSync(dir, { recursive: true, force: true });

const ms = (n: number) => `${Math.round(n)} ms`;
const x = (n: number) => `${n.toFixed(1)}×`;
console.log(`Median of ${runs} runs each; floor = \`node -e 0\` = ${ms(floor)} on this machine now.\n`);
console.log('| command | compiled (dist/) | vs floor | from sources (tsx) | tsx / compiled |');
console.log('|---|---|---|---|---|');
for (const [label, compiled, source] of rows) {
  console.log(
    `| \`${label}\` | ${ms(compiled)} | ${x(compiled / floor)} | ${ms(source)} | ${x(source / compiled)} |`,
  );
}
console.log(
  `\n${compiledCurrent ? 'The compiled CLI is what `npx retab-mirror`, the npm scripts and PM2 run once `npm install` has built it;' : ''} the tsx path is taken only when a file under src/ is newer than dist/.`,
);
console.log(`BENCH_JSON ${JSON.stringify({ startup: { floorMs: floor, rows } })}`);
