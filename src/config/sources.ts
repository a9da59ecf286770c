/**
 * Where a setting's raw value comes from, weakest source first: the JSON config file (`--config` or
 * `RETAB_MIRROR_CONFIG`), a `.env` file (never overriding a variable already set), the environment (a
 * setting's own variable, else its alias). loadConfig.ts picks the strongest and validates it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { ConfigError } from './errors.ts';
import { SETTINGS } from './settings.ts';

/**
 * Other names a setting is read from, weaker than its own: `RETAB_API_BASE_URL` is what Retab's official
 * clients read (retab-dev/retab `clients/python/retab/client.py`), so a shell set up for them works as is.
 */
const ENV_ALIASES: Readonly<Record<string, string>> = { RETAB_BASE_URL: 'RETAB_API_BASE_URL' };

/**
 * The variable's value and the name it came from (the setting's own name, else its alias). Throws a
 * `ConfigError` when both are set and disagree.
 */
export function readEnv(env: Record<string, string | undefined>, name: string): [string | undefined, string] {
  const own = env[name];
  const aliasName = ENV_ALIASES[name];
  const alias = aliasName === undefined ? undefined : env[aliasName];
  if (own !== undefined && own !== '') {
    if (aliasName !== undefined && alias !== undefined && alias !== '' && alias !== own) {
      throw new ConfigError(
        `${name} and ${aliasName} are both set and disagree (${JSON.stringify(own)} vs ${JSON.stringify(alias)}); unset one of them`,
      );
    }
    return [own, name];
  }
  if (aliasName !== undefined && alias !== undefined && alias !== '') return [alias, aliasName];
  return [undefined, name];
}

/** Add the variables of a `.env` file (when it exists) that `env` does not already set; `env` is changed. */
export function mergeDotenv(env: Record<string, string | undefined>, path: string | false): void {
  if (!path || !existsSync(path)) return;
  for (const [k, v] of Object.entries(parseDotenv(readFileSync(path)))) if (env[k] === undefined) env[k] = v;
}

/**
 * The settings of a JSON config file, keyed by `SETTINGS` key. Throws a `ConfigError` when the file is
 * missing, is not JSON, is not an object, or names an unknown setting.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path))
    throw new ConfigError(`Config file not found: ${path} (from --config or RETAB_MIRROR_CONFIG)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`Config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`Config file ${path} must hold a JSON object of settings, e.g. {"pageSize": 100}`);
  }
  const known = new Set<string>(SETTINGS.map((x) => x.key));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) {
      throw new ConfigError(
        `Config file ${path}: unknown setting "${key}". Known settings: ${[...known].join(', ')}`,
      );
    }
  }
  return parsed as Record<string, unknown>;
}
