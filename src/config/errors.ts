/**
 * A setting that is missing, malformed or refused. Its message is one line naming the setting (its
 * environment variable, or the config file and key) and what is expected; the CLI exits 2 on it.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
