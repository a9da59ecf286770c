/**
 * A failure to report in one line with a given exit code (1 runtime, 2 usage). Its own module, free of
 * dependencies, so the commands' light declarations (commands/) can throw it from their argument parsers.
 */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
