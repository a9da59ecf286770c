/** Keeping the config's credentials out of what is shown (`config`, `status`) and logged. */
import { credentialValues, MASK, maskCredentials } from '../credentials.ts';
import { registerSecret } from '../log.ts';
import { type Config, SETTINGS } from './settings.ts';

/**
 * The effective config with every credential masked, for `retab-mirror config` and `status`: the secret
 * settings whole, and credentials inside the others (REDIS_URL's password, token-like query parameters,
 * each webhook's `secret`; credentials.ts).
 */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const v = config[setting.key as keyof Config];
    out[setting.key] = setting.secret && v !== undefined ? MASK : maskCredentials(v);
  }
  return out;
}

/** Register every credential of the config with the logger, so logs and error lines scrub them by value. */
export function registerConfigSecrets(config: Config): void {
  for (const setting of SETTINGS) {
    // Alert rules hold job metadata to match, not credentials: scrubbing those values would garble logs.
    if (setting.key === 'alertRules') continue;
    const v = config[setting.key as keyof Config];
    if (setting.secret && typeof v === 'string') registerSecret(v);
    else for (const secret of credentialValues(v)) registerSecret(secret);
  }
}
