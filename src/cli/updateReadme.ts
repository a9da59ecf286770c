/** `npm run docs`: rewrite the generated blocks of README.md (configuration table, CLI reference). */
import { readFileSync, writeFileSync } from 'node:fs';
import { SETTINGS } from '../config.ts';
import { renderCliReference } from './cliReference.ts';
import { buildProgram } from './program.ts';

export function renderConfigTable(): string {
  const rows = SETTINGS.map((s) => {
    const d =
      s.default === undefined
        ? '—'
        : `\`${Array.isArray(s.default) ? s.default.join(',') : typeof s.default === 'object' ? JSON.stringify(s.default) : String(s.default)}\``;
    return `| \`${s.env}\` | \`${s.key}\` | ${d} | ${s.doc} |`;
  });
  return ['| Variable | Config file key | Default | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export function replaceBlock(text: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${start} … ${end} block`);
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`;
}

export function renderReadme(text: string): string {
  return replaceBlock(
    replaceBlock(text, 'config-table', renderConfigTable()),
    'cli-reference',
    renderCliReference(buildProgram()),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = new URL('../../README.md', import.meta.url);
  writeFileSync(path, renderReadme(readFileSync(path, 'utf8')));
  process.stdout.write('README.md: configuration table and CLI reference regenerated\n');
}
