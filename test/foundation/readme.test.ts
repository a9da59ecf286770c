import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';
import { renderReadme } from '../../src/cli/updateReadme.ts';
import { SETTINGS } from '../../src/config.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function commandPaths(): string[] {
  const out: string[] = [];
  const walk = (cmd: ReturnType<typeof buildProgram>, prefix: string) => {
    for (const sub of cmd.commands) {
      out.push(`${prefix} ${sub.name()}`.trim());
      walk(sub, `${prefix} ${sub.name()}`);
    }
  };
  walk(buildProgram(), '');
  return out;
}

describe('README', () => {
  it('its generated blocks (config table, CLI reference) match the code: run `npm run docs` if not', () => {
    expect(renderReadme(readme)).toBe(readme);
  });

  it('lists every setting of config.ts, and no setting that does not exist', () => {
    const table = readme.split('<!-- config-table:start -->')[1]?.split('<!-- config-table:end -->')[0] ?? '';
    const documented = table
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.split('|')[1]?.trim().replace(/`/g, ''));
    expect(documented.sort()).toEqual(SETTINGS.map((s) => s.env).sort());
  });

  it('documents every command, and every documented command exists', () => {
    const ref = readme.split('<!-- cli-reference:start -->')[1]?.split('<!-- cli-reference:end -->')[0] ?? '';
    const documented = [...ref.matchAll(/^### `retab-mirror ([a-z][a-z ]*?)(?: \[|`| <)/gm)].map((m) =>
      m[1]!.trim(),
    );
    expect(documented.sort()).toEqual(commandPaths().sort());
  });

  it('every `retab-mirror <command>` mentioned in the prose exists', () => {
    const known = new Set(commandPaths().map((p) => p.split(' ')[0]));
    const mentioned = [...readme.matchAll(/retab-mirror ([a-z]+)\b/g)].map((m) => m[1]!);
    const unknown = mentioned.filter((c) => !known.has(c) && !['is', 'as', 'reads', 'to'].includes(c));
    expect(unknown).toEqual([]);
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
