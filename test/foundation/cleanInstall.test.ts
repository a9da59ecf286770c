/**
 * "A clean install prints no warning" (README, Development): npm warns EBADENGINE for every package of the
 * lockfile whose `engines.node` the running Node does not satisfy. @fastify/static 10 depends on
 * content-disposition ^3, whose every release requires Node >= 22; `overrides` pins 2.0.1 (Node >= 18, the
 * same `create` export, CommonJS).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// npm's own range semantics (semver is in the tree through several dependencies; no types needed here).
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
};

it('every package in package-lock.json supports this Node and Node 20.19 (no EBADENGINE on install)', () => {
  const lock = JSON.parse(readFileSync(`${ROOT}package-lock.json`, 'utf8')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } }>;
  };
  const unsupported: string[] = [];
  for (const [path, pkg] of Object.entries(lock.packages)) {
    const range = pkg.engines?.node;
    if (!range || path === '') continue;
    for (const node of [process.versions.node, '20.19.0'])
      if (!semver.satisfies(node, range))
        unsupported.push(`${path}@${pkg.version} needs node ${range} (${node})`);
  }
  expect(unsupported).toEqual([]);
});

it("@fastify/static's content-disposition has the `create` it calls", () => {
  const req = createRequire(`${ROOT}node_modules/@fastify/static/index.js`);
  expect(typeof (req('content-disposition') as { create?: unknown }).create).toBe('function');
});
