import type { Command } from 'commander';
import { redactConfig, SETTINGS } from '../config.ts';
import { cliContext } from './context.ts';

export function registerConfigCommand(program: Command): void {
  program
    // Its flags and help: commands/config.ts.
    .command('config')
    .action((_opts, cmd: Command) => {
      const { config, json } = cliContext(cmd);
      const shown = redactConfig(config);
      if (json) {
        process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
        return;
      }
      const width = Math.max(...SETTINGS.map((s) => s.env.length));
      for (const setting of SETTINGS) {
        const v = shown[setting.key];
        process.stdout.write(
          `${setting.env.padEnd(width)}  ${v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v)}\n`,
        );
      }
    });
}
