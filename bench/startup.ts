/**
 * CLI start-up: how long an everyday command takes to answer, from the process start to its exit, as
 * `bin/retab-mirror.js` runs it after an install — the bundle `dist/cli-bundle/` (scripts/bundleCli.mjs) —
 * beside the tsc output `dist/cli/main.js` run directly (one file per module) and the TypeScript sources
 * through tsx's loader (a checkout edited since its last build), against the floor of starting node itself
 * (`node -e 0`), all measured in this run, the runs of every variant interleaved so that a change in the
 * machine's load touches them alike. Target (issue #18): everyday commands answer on a small mirror in well
 * under half a second (aim: 0.3 s on a quiet machine), i.e. within a few node start-ups.
 *
 * Wall time is what a user waits; CPU time (user + system of the child) is printed too, because on a shared
 * machine it moves much less with the load than wall time does. `status` also asks Redis (REDIS_URL, default
 * 127.0.0.1:6379) for the queue and the schedulers.
 *
 *   npx tsx bench/startup.ts [--quick] [--build] [--no-sources] [--baseline <other checkout>/bin/retab-mirror.js]
 *     --quick       5 runs each instead of 15
 *     --build       rebuild dist/ and the bundle first (done anyway when either is missing or older than src/)
 *     --no-sources  skip the tsx variant (the slowest)
 *     --baseline    also time another checkout's CLI in the same runs (e.g. the commit before a change)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPage } from '../src/mirror/applyPage.ts';
import { openMirror } from '../src/mirror/openMirror.ts';
import { generateJobs, toJob } from '../src/simulator/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/retab-mirror.js');
const runs = process.argv.includes('--quick') ? 5 : 15;
const baselineAt = process.argv.indexOf('--baseline');
const BASELINE = baselineAt > 0 ? process.argv[baselineAt + 1] : undefined;
if (BASELINE !== undefined && !existsSync(BASELINE)) throw new Error(`--baseline ${BASELINE}: no such file`);

const BUNDLE = join(ROOT, 'dist/cli-bundle/main.js');
const COMPILED = join(ROOT, 'dist/cli/main.js');

/**
 * Whether `file` exists and is at least as new as every file under src/, package.json,
 * node_modules/.package-lock.json and scripts/bundleCli.mjs (what bin/retab-mirror.js checks, or stricter).
 */
function current(file: string): boolean {
  if (!existsSync(file)) return false;
  const built = statSync(file).mtimeMs;
  const inputs = ['package.json', 'node_modules/.package-lock.json', 'scripts/bundleCli.mjs']
    .map((f) => join(ROOT, f))
    .filter((f) => existsSync(f));
  return (
    inputs.every((f) => statSync(f).mtimeMs <= built) &&
    readdirSync(join(ROOT, 'src'), { withFileTypes: true, recursive: true }).every(
      (e) => !e.isFile() || statSync(join(e.parentPath, e.name)).mtimeMs <= built,
    )
  );
}

/** npm's npx, run with this node (`npx retab-mirror …` in ROOT: npm's start-up, then bin/), when it is a JS file. */
const NPX = (() => {
  const which = spawnSync('sh', ['-c', 'command -v npx'], { encoding: 'utf8' }).stdout.trim();
  if (!which) return undefined;
  const real = realpathSync(which);
  return real.endsWith('.js') ? real : undefined;
})();

// Both builds must be current, as after `npm install` (which runs `prepare`), or bin/ would run the sources.
if (!current(BUNDLE) || !current(COMPILED) || process.argv.includes('--build')) {
  const build = spawnSync('npm', ['run', 'prepare'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run prepare failed');
}

// A small mirror: 500 jobs with their requests, as a first sync of a quiet organisation leaves it.
const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
const db = join(dir, 'mirror.db');
/** A job of the mirror, for `jobs get`. */
let someJob = '';
{
  const mirror = openMirror(db);
  const jobs = generateJobs(1, 500, 14, Date.now()).map((r) =>
    toJob(r, 'org_bench', { includeRequest: true, includeResponse: false }),
  );
  applyPage(mirror, jobs, { observedAt: Date.now(), backfill: true });
  someJob = jobs[250]?.id ?? '';
  mirror.close();
}

interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** `/usr/bin/time` reports the child's user + system CPU time (spawnSync does not); without it, wall only. */
const hasTime = spawnSync('/usr/bin/time', ['-f', '%U', 'true']).status === 0;

/** One run of `node <args>`: wall time, and CPU time when `/usr/bin/time` is there. */
function timed(args: readonly string[], env: Record<string, string>): Sample {
  const [cmd, argv] = hasTime
    ? ['/usr/bin/time', ['-f', 'RUSAGE %U %S', process.execPath, ...args]]
    : [process.execPath, [...args]];
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, {
    // npx finds the package's own bin from its folder.
    cwd: ROOT,
    env: { ...process.env, MIRROR_DB: db, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const m = /RUSAGE ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wallMs, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : Number.NaN };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface Variant {
  label: string;
  args: (command: readonly string[]) => string[];
  env?: Record<string, string>;
}

const sources = !process.argv.includes('--no-sources');
const variants: Variant[] = [
  { label: 'floor', args: () => ['-e', '0'] },
  // What an install runs: bin/ picks the bundle.
  { label: 'bundle', args: (c) => [BIN, ...c] },
  { label: 'compiled', args: (c) => [COMPILED, ...c] },
  ...(sources
    ? [
        {
          label: 'source',
          args: (c: readonly string[]) => [BIN, ...c],
          env: { RETAB_MIRROR_FROM_SOURCE: '1' },
        },
      ]
    : []),
  ...(BASELINE ? [{ label: 'baseline', args: (c: readonly string[]) => [BASELINE, ...c] }] : []),
  // Measured, not asserted: what `npx retab-mirror …` costs over the bundle (npm's own start-up).
  ...(NPX ? [{ label: 'npx', args: (c: readonly string[]) => [NPX, 'retab-mirror', ...c] }] : []),
];

/** Median wall and CPU time of each variant for one command, runs interleaved (one unmeasured warm-up). */
function measure(command: readonly string[]): Record<string, Sample> {
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.label, []]));
  for (let i = 0; i <= runs; i++) {
    for (const v of variants) {
      const s = timed(v.args(command), v.env ?? {});
      if (i > 0) samples.get(v.label)?.push(s);
    }
  }
  const out: Record<string, Sample> = {};
  for (const [label, xs] of samples)
    out[label] = { wallMs: median(xs.map((x) => x.wallMs)), cpuMs: median(xs.map((x) => x.cpuMs)) };
  return out;
}

const COMMANDS: [string, string[]][] = [
  ['--help', ['--help']],
  ['jobs list --limit 5', ['jobs', 'list', '--limit', '5']],
  ['jobs get <id>', ['jobs', 'get', someJob]],
  ['stats', ['stats']],
  ['events tail', ['events', 'tail']],
  ['status', ['status']],
];
const rows = COMMANDS.map(([label, command]) => ({ label, times: measure(command) }));
rmSync(dir, { recursive: true, force: true });

const ms = (n: number) => (Number.isNaN(n) ? '–' : `${Math.round(n)} ms`);
const x = (n: number) => `${n.toFixed(1)}×`;
const floor = rows[0]?.times.floor as Sample;
console.log(
  `Median of ${runs} interleaved runs each, on a mirror of 500 jobs; floor = \`node -e 0\` = ${ms(floor.wallMs)} wall, ${ms(floor.cpuMs)} CPU on this machine now (each row's ratios use the floor of its own runs).\n`,
);
console.log(
  `| command | bundle (what bin/ runs) | vs floor | CPU | CPU vs floor | tsc output (dist/cli) | CPU |${sources ? ' from sources (tsx) |' : ''}${BASELINE ? ' baseline | baseline vs floor | baseline CPU |' : ''}${NPX ? ' `npx retab-mirror` |' : ''}`,
);
console.log(
  `|---|---|---|---|---|---|---|${sources ? '---|' : ''}${BASELINE ? '---|---|---|' : ''}${NPX ? '---|' : ''}`,
);
for (const r of rows) {
  const f = r.times.floor as Sample;
  const b = r.times.bundle as Sample;
  const c = r.times.compiled as Sample;
  const s = r.times.source;
  const base = r.times.baseline;
  const npx = r.times.npx;
  console.log(
    `| \`${r.label}\` | ${ms(b.wallMs)} | ${x(b.wallMs / f.wallMs)} | ${ms(b.cpuMs)} | ${x(b.cpuMs / f.cpuMs)} | ${ms(c.wallMs)} | ${ms(c.cpuMs)} |${s ? ` ${ms(s.wallMs)} |` : ''}${base ? ` ${ms(base.wallMs)} | ${x(base.wallMs / f.wallMs)} | ${ms(base.cpuMs)} |` : ''}${npx ? ` ${ms(npx.wallMs)} |` : ''}`,
  );
}
console.log(
  "\nThe bundle is what `./node_modules/.bin/retab-mirror`, `node bin/retab-mirror.js`, the npm scripts and PM2 run once `npm install` has built it (`npx retab-mirror` runs it too, after ~0.7 s of npm's own start-up; `npm run` adds its own as well); the tsx path is taken only when a source file under src/, package.json or node_modules/.package-lock.json is newer than both builds.",
);
console.log(
  `BENCH_JSON ${JSON.stringify({ startup: { runs, rows: rows.map((r) => ({ command: r.label, ...r.times })) } })}`,
);
