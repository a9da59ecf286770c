import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README configuration table', () => {
  const table = readme.split('<!-- config-table:start -->')[1]?.split('<!-- config-table:end -->')[0] ?? '';
  const rows = table
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.split('|').map((c) => c.trim().replace(/`/g, '')));

  it('lists every setting of config.ts with its key and default, and nothing else', () => {
    const documented = rows.map((r) => r[1]);
    expect(documented.sort()).toEqual(SETTINGS.map((s) => s.env).sort());
    for (const s of SETTINGS) {
      const row = rows.find((r) => r[1] === s.env)!;
      expect(row[2]).toBe(s.key);
      const def =
        s.default === undefined
          ? '—'
          : Array.isArray(s.default)
            ? s.default.join(',')
            : typeof s.default === 'object'
              ? JSON.stringify(s.default)
              : String(s.default);
      expect(row[3]).toBe(def);
    }
  });

  it('quick start has exactly the demo and test commands', () => {
    const quick = readme.split('## Quick start')[1]?.split('\n## ')[0] ?? '';
    const block = quick.split('```sh')[1]?.split('```')[0] ?? '';
    const commands = block
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm install && npm run demo', 'npm test']);
  });
});
