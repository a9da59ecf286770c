/**
 * The configuration: every setting declared once (`SETTINGS`), loaded and validated by `loadConfig` from
 * flags > environment (and `.env`) > a JSON config file > defaults, with one-line `ConfigError`s. One file per
 * concept under src/config/; this facade keeps the names every other module imports.
 */
export { type AlertRule, AlertRuleSchema, WebhookSchema } from './config/alerting.ts';
export { LOG_LEVELS, PAYLOAD_MODES, type PayloadMode } from './config/choices.ts';
export { ConfigError } from './config/errors.ts';
export { type LoadConfigOptions, loadConfig } from './config/loadConfig.ts';
export { redactConfig, registerConfigSecrets } from './config/redact.ts';
export { type Config, SETTINGS } from './config/settings.ts';
