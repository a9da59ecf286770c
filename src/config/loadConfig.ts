/**
 * One typed, validated configuration. Sources, strongest first: CLI flags (`overrides`), environment
 * variables (including a `.env` file in the working directory, which never overrides a variable already
 * set), an optional JSON config file (`--config path` or `RETAB_MIRROR_CONFIG`), then the defaults of
 * `SETTINGS` (settings.ts).
 */
import { maskCredentialsInText } from '../credentials.ts';
import { ConfigError } from './errors.ts';
import { registerConfigSecrets } from './redact.ts';
import { type Config, SETTINGS } from './settings.ts';
import { mergeDotenv, readConfigFile, readEnv } from './sources.ts';

export interface LoadConfigOptions {
  /** Environment to read; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** JSON config file; defaults to `RETAB_MIRROR_CONFIG` when set. */
  configFile?: string;
  /** `.env` file to read (values never override `env`); default `./.env` when it exists, `false` to skip. */
  dotenvFile?: string | false;
  /** Final overrides (CLI flags), strongest of all. */
  overrides?: Partial<Record<keyof Config, unknown>>;
}

function describeValue(v: unknown, secret: boolean | undefined): string {
  if (secret) return '(hidden)';
  // A refused value may not parse (so maskCredentials cannot see into it): hide what looks like a credential
  // in its text, before shortening it (a cut could leave part of one unmasked).
  const str = maskCredentialsInText(typeof v === 'string' ? v : JSON.stringify(v));
  return JSON.stringify(str.length > 80 ? `${str.slice(0, 77)}...` : str);
}

/**
 * Load and validate the configuration, and register its credentials with the logger (redact.ts). Throws a
 * one-line `ConfigError` naming the bad setting, where its value came from, and what is expected.
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env: Record<string, string | undefined> = { ...(opts.env ?? process.env) };
  mergeDotenv(env, opts.dotenvFile === undefined ? '.env' : opts.dotenvFile);
  const filePath = opts.configFile ?? env.RETAB_MIRROR_CONFIG;
  const file = filePath ? readConfigFile(filePath) : {};
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const override = opts.overrides?.[setting.key as keyof Config];
    const [fromEnv, envName] = readEnv(env, setting.env);
    const [raw, origin] =
      override !== undefined
        ? [override, 'flag']
        : fromEnv !== undefined && fromEnv !== ''
          ? [fromEnv, `env ${envName}`]
          : setting.key in file
            ? [file[setting.key], `config file key "${setting.key}"`]
            : [setting.default, 'default'];
    if (raw === undefined) continue;
    const result = setting.schema.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      throw new ConfigError(
        `Invalid ${setting.env} (${origin}): ${describeValue(raw, setting.secret)}${where}: ${issue?.message ?? 'invalid'}. Expected: ${setting.doc}`,
      );
    }
    out[setting.key] = result.data;
  }
  const config = out as unknown as Config;
  registerConfigSecrets(config);
  return config;
}
