/**
 * The README's CLI reference, generated from the commander program itself (`npm run docs` rewrites it; a
 * test fails when the README and the program disagree), so the docs cannot drift from the code.
 */
import type { Command } from 'commander';

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function section(cmd: Command): string[] {
  const usage = `${commandPath(cmd)} ${cmd.usage()}`.trim();
  const lines = [`### \`${usage}\``, '', cmd.description(), ''];
  const options = cmd.options.filter((o) => !o.hidden);
  if (options.length > 0) {
    lines.push('| option | meaning |', '|---|---|');
    for (const o of options) {
      const def =
        o.defaultValue !== undefined && o.defaultValue !== false
          ? ` (default: \`${JSON.stringify(o.defaultValue)}\`)`
          : '';
      const choices = o.argChoices ? ` (one of: ${o.argChoices.join(', ')})` : '';
      lines.push(
        `| \`${o.flags.replace(/\|/g, '\\|')}\` | ${o.description.replace(/\|/g, '\\|')}${choices}${def} |`,
      );
    }
    lines.push('');
  }
  return lines;
}

export function renderCliReference(program: Command): string {
  const out: string[] = [...section(program)];
  const walk = (cmd: Command) => {
    for (const sub of cmd.commands) {
      if ((sub as Command & { _hidden?: boolean })._hidden) continue;
      out.push(...section(sub));
      walk(sub);
    }
  };
  walk(program);
  return out.join('\n').trim();
}
