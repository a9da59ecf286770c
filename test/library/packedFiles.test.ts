/**
 * What an installed package holds (`npm install retab-mirror`, a git URL: npm packs the `files` list). The
 * web console is served from `web/dist` next to `dist/`: without it `serve` and the demo answer 404 at `/`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

it('the packed package carries the built web console (web/dist) and no console sources', () => {
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(pack.status, pack.stderr).toBe(0);
  const [{ files }] = JSON.parse(pack.stdout) as [{ files: { path: string }[] }];
  const paths = files.map((f) => f.path);
  expect(paths).toContain('web/dist/index.html');
  expect(paths.some((p) => /^web\/dist\/assets\/index-.*\.js$/.test(p))).toBe(true);
  expect(paths.some((p) => p.startsWith('web/src/'))).toBe(false);
}, 90_000);
