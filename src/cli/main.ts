/**
 * CLI entry: exit 2 on usage errors, 1 with a one-line cause on failures, never a stack trace by default.
 * It imports only what building the program needs (program.ts); a command's own modules load when it runs.
 */
import { CommanderError } from 'commander';
import { ConfigError } from '../config/errors.ts';
import { CliError } from './cliError.ts';
import { buildProgram } from './program.ts';

// A closed pipe (`retab-mirror jobs list | head`) is a normal end, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = buildProgram();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // help and version "errors" are exit 0; any other commander error is a usage error.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    const badSetting =
      err instanceof ConfigError ||
      ['EventsConfigError', 'MirrorLocationError'].includes((err as Error)?.name);
    const exitCode = err instanceof CliError ? err.exitCode : badSetting ? 2 : 1;
    let message =
      badSetting || err instanceof CliError
        ? (err as Error).message
        : ((err as Error)?.message ?? String(err));
    // A mirror file that cannot be opened: say which setting names it.
    if ((err as Error)?.name === 'MirrorOpenError' && !message.includes('MIRROR_DB'))
      message += ' (MIRROR_DB)';
    // The secrets registry lives with the logger: loaded on this path only (a command that failed after
    // loading its config has it already; one that failed before has registered no secret).
    const { scrubSecrets } = await import('../log.ts');
    process.stderr.write(`retab-mirror: ${scrubSecrets(message)}\n`);
    if (process.env.DEBUG && err instanceof Error && err.stack)
      process.stderr.write(`${scrubSecrets(err.stack)}\n`);
    process.exitCode = exitCode;
  }
}
