/**
 * One typed, validated configuration. Sources, strongest first: environment variables (including a `.env`
 * file in the working directory, which never overrides a variable already set), an optional JSON config
 * file (`--config path` or `RETAB_MIRROR_CONFIG`), then the defaults below. Every setting is declared once
 * in `SETTINGS`; the README's configuration table is checked against it by a test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { credentialValues, MASK, maskCredentials, maskCredentialsInText } from './credentials.ts';
import { EVENT_TYPES } from './events/eventModel.ts';
import { registerSecret } from './log.ts';
import {
  ACTIVE_STATUSES,
  type ActiveStatus,
  ENDPOINTS,
  JOB_STATUSES,
  SOURCES,
  TERMINAL_STATUSES,
} from './retab/schemas.ts';

export const PAYLOAD_MODES = ['none', 'request', 'full'] as const;
export type PayloadMode = (typeof PAYLOAD_MODES)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * A whole number from the environment or a config file: plain decimal digits only (`100`, `-1`), so `0x20`,
 * `1e1`, `1.0`, ` 12` or `12abc` are refused with the setting's name rather than read as something else.
 */
const NOT_DECIMAL = 'expected a plain decimal integer (digits only, e.g. 100)';
const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v),
    z
      // Only the type's own issue says "not a decimal integer": an out-of-range one says its range.
      .number({ error: (issue) => (issue.code === 'invalid_type' ? NOT_DECIMAL : undefined) })
      .min(min, { error: `expected an integer from ${min} to ${max}` })
      .max(max, { error: `expected an integer from ${min} to ${max}` })
      .int({ error: NOT_DECIMAL }),
  );
/**
 * A token compared with what a client sends in a header. HTTP strips a header value's surrounding
 * whitespace, so a token with any could never match: refused at start-up.
 */
const headerToken = z
  .string()
  .min(1)
  .refine((v) => v === v.trim(), {
    error:
      'has leading or trailing whitespace, which HTTP strips from headers, so no request could ever match it; remove the spaces',
  });
/**
 * The known status a name is a likely typo of: within Levenshtein distance 2 of one of `JOB_STATUSES` and not
 * equal to any. Unknown statuses are otherwise allowed (Retab may add new ones), so `in_progres` is refused
 * with a hint while `paused` is accepted.
 */
function nearKnownStatus(status: string): string | undefined {
  if ((JOB_STATUSES as readonly string[]).includes(status)) return undefined;
  return JOB_STATUSES.find((known) => distance(status, known) <= 2);
}
const csv = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(item),
  );
const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v);
    } catch {
      return v; // let the schema report "expected array/object"
    }
  }, schema);

export const WebhookSchema = z.object({
  name: z.string().min(1),
  url: z.url(),
  /** HMAC-SHA256 secret; defaults to `WEBHOOK_SECRET`. */
  secret: z.string().min(1).optional(),
});

export const AlertRuleSchema = z.object({
  name: z.string().min(1),
  when: z
    .object({
      type: z.array(z.enum(EVENT_TYPES)).optional(),
      to: z.array(z.enum(JOB_STATUSES)).optional(),
      from: z.array(z.enum(JOB_STATUSES)).optional(),
      endpoint: z.array(z.enum(ENDPOINTS)).optional(),
      metadata: z.record(z.string(), z.string()).optional(),
      includeBackfill: z.boolean().default(false),
      includeInferred: z.boolean().default(true),
    })
    .default({ includeBackfill: false, includeInferred: true }),
  /** Sink names: `log`, `stdout`, `queue`, or a webhook's `name`. */
  sinks: z.array(z.string().min(1)).min(1),
});
export type AlertRule = z.infer<typeof AlertRuleSchema>;

interface Setting {
  key: string;
  env: string;
  schema: z.ZodType;
  default: unknown;
  doc: string;
  /** The whole value is a secret. */
  secret?: boolean;
}

function s(key: string, env: string, schema: z.ZodType, def: unknown, doc: string, secret = false): Setting {
  return { key, env, schema, default: def, doc, secret };
}

/** Every setting: config-file key, environment variable, validation, default, and its one-line doc. */
export const SETTINGS = [
  s(
    'apiKey',
    'RETAB_API_KEY',
    z.string().min(1).optional(),
    undefined,
    'Retab API key (sent as `Api-Key`). Never logged or stored.',
    true,
  ),
  s(
    'baseUrl',
    'RETAB_BASE_URL',
    // Fetch refuses a URL with userinfo on every request (after all its retries): refused here, at once.
    z.url().refine((v) => !URL.canParse(v) || (new URL(v).username === '' && new URL(v).password === ''), {
      error:
        'credentials in the URL (user:password@) are not supported; Retab authenticates with RETAB_API_KEY, so remove them',
    }),
    'https://api.retab.com/v1',
    'Upstream base URL, including `/v1` (a bare origin gets `/v1`), without `user:password@`; `RETAB_API_BASE_URL`, the name Retab’s clients read, is accepted too.',
  ),
  s(
    'dbPath',
    'MIRROR_DB',
    z.string().min(1),
    './data/mirror.db',
    'SQLite file of the mirror (its folder is created).',
  ),
  s(
    'redisUrl',
    'REDIS_URL',
    z.url(),
    'redis://127.0.0.1:6379',
    'Redis for BullMQ (worker, backfill, events queue).',
  ),
  s(
    'queuePrefix',
    'QUEUE_PREFIX',
    z.string().regex(/^[A-Za-z0-9_-]+$/),
    'retab-mirror',
    'BullMQ key prefix in Redis.',
  ),
  s(
    'logLevel',
    'LOG_LEVEL',
    z.enum(LOG_LEVELS),
    'info',
    'Log level: trace, debug, info, warn, error, fatal, silent.',
  ),
  s('pageSize', 'PAGE_SIZE', int(1, 100), 100, 'Items per upstream list request (1–100).'),
  s(
    'payloadMode',
    'PAYLOAD_MODE',
    z.enum(PAYLOAD_MODES),
    'request',
    'Stored payloads: `none`, `request` (needed by filename/model/project filters) or `full` (also responses).',
  ),
  s(
    'sources',
    'SOURCES',
    csv(z.enum(SOURCES)).pipe(z.array(z.enum(SOURCES)).min(1)),
    [...SOURCES],
    'Comma-separated sources to mirror: api, project, workflow.',
  ),
  s('backfillDays', 'BACKFILL_DAYS', int(0, 3650), 30, 'Days of history the first head run backfills.'),
  s(
    'headOverlapSeconds',
    'HEAD_OVERLAP_SECONDS',
    int(0, 86_400),
    300,
    'How far behind the watermark the head task re-reads.',
  ),
  s('headEveryMs', 'POLL_HEAD_MS', int(1000, 86_400_000), 30_000, 'Head (new jobs) schedule, ms.'),
  s(
    'activeEveryMs',
    'POLL_ACTIVE_MS',
    int(1000, 86_400_000),
    10_000,
    'Active sweep (in-flight jobs) schedule, ms.',
  ),
  s(
    'hydrateEveryMs',
    'POLL_HYDRATE_MS',
    int(1000, 86_400_000),
    60_000,
    'Hydrate (fetch missing payloads) schedule, ms.',
  ),
  s(
    'reconcileEveryMs',
    'POLL_RECONCILE_MS',
    int(60_000, 7 * 86_400_000),
    3_600_000,
    'Reconcile (re-sweep the last 7 days) schedule, ms.',
  ),
  s(
    'activeStatuses',
    'ACTIVE_STATUSES',
    csv(z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected status names such as queued,in_progress')).pipe(
      z
        .array(z.string())
        .min(1)
        .refine((list) => list.every((st) => !TERMINAL_STATUSES.includes(st as never)), {
          message: `terminal statuses (${TERMINAL_STATUSES.join(', ')}) cannot be swept as active`,
        })
        .superRefine((list, ctx) => {
          for (const st of list) {
            const known = nearKnownStatus(st);
            if (known)
              ctx.addIssue({ code: 'custom', message: `unknown status "${st}"; did you mean ${known}?` });
          }
        }),
    ),
    [...ACTIVE_STATUSES],
    'Non-terminal statuses the active sweep lists; a status upstream added since this release may be listed too (one within 2 edits of a known status, e.g. `in_progres`, is refused as a typo).',
  ),
  s('requestTimeoutMs', 'REQUEST_TIMEOUT_MS', int(100, 600_000), 30_000, 'Per-request upstream timeout, ms.'),
  s(
    'maxRetries',
    'MAX_RETRIES',
    int(0, 20),
    5,
    'Retries of a retryable upstream failure (429, 5xx, resets, timeouts).',
  ),
  s(
    'rateLimitPerSecond',
    'RATE_LIMIT_RPS',
    int(1, 10_000),
    20,
    'Upstream requests per second of a process (evenly spaced, retries included); also caps sync task starts per second across all workers on one Redis.',
  ),
  s('workerConcurrency', 'WORKER_CONCURRENCY', int(1, 64), 4, 'Sync jobs one worker runs at once.'),
  s('serverHost', 'SERVER_HOST', z.string().min(1), '127.0.0.1', 'Local read API bind address.'),
  s('serverPort', 'SERVER_PORT', int(0, 65_535), 8765, 'Local read API port.'),
  s(
    'serverToken',
    'MIRROR_API_TOKEN',
    headerToken.optional(),
    undefined,
    'When set, the local API requires it (`Api-Key` or `Authorization: Bearer`).',
    true,
  ),
  s(
    'eventsQueue',
    'EVENTS_QUEUE',
    z.string().regex(/^[A-Za-z0-9_-]+$/),
    'events',
    'BullMQ queue that receives change events (under QUEUE_PREFIX).',
  ),
  s(
    'eventsQueueEnabled',
    'EVENTS_QUEUE_ENABLED',
    z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean()),
    true,
    'Publish every event to the BullMQ events queue when the worker runs.',
  ),
  s(
    'webhookSecret',
    'WEBHOOK_SECRET',
    z.string().min(1).optional(),
    undefined,
    'Default webhook signing secret (Standard Webhooks): `whsec_<base64>` or raw text.',
    true,
  ),
  s(
    'webhooks',
    'WEBHOOKS',
    json(z.array(WebhookSchema)),
    [],
    'JSON array of `{ "name", "url", "secret"? }` webhook sinks.',
  ),
  s(
    'alertRules',
    'ALERT_RULES',
    json(z.array(AlertRuleSchema)),
    [],
    'JSON array of alert rules `{ name, when, sinks }` (see Alerts).',
  ),
] as const satisfies readonly Setting[];

export interface Config {
  apiKey?: string;
  baseUrl: string;
  dbPath: string;
  redisUrl: string;
  queuePrefix: string;
  logLevel: (typeof LOG_LEVELS)[number];
  pageSize: number;
  payloadMode: PayloadMode;
  sources: (typeof SOURCES)[number][];
  backfillDays: number;
  headOverlapSeconds: number;
  headEveryMs: number;
  activeEveryMs: number;
  hydrateEveryMs: number;
  reconcileEveryMs: number;
  activeStatuses: ActiveStatus[];
  requestTimeoutMs: number;
  maxRetries: number;
  rateLimitPerSecond: number;
  workerConcurrency: number;
  serverHost: string;
  serverPort: number;
  serverToken?: string;
  eventsQueue: string;
  eventsQueueEnabled: boolean;
  webhookSecret?: string;
  webhooks: z.infer<typeof WebhookSchema>[];
  alertRules: AlertRule[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

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

/**
 * Other names a setting is read from, weaker than its own: `RETAB_API_BASE_URL` is what Retab's official
 * clients read (retab-dev/retab `clients/python/retab/client.py`), so a shell set up for them works as is.
 */
const ENV_ALIASES: Readonly<Record<string, string>> = { RETAB_BASE_URL: 'RETAB_API_BASE_URL' };

/** The variable's value and the name it came from (the setting's own name, else its alias). */
function readEnv(env: Record<string, string | undefined>, name: string): [string | undefined, string] {
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

function describeValue(v: unknown, secret: boolean | undefined): string {
  if (secret) return '(hidden)';
  // A refused value may not parse (so maskCredentials cannot see into it): hide what looks like a credential
  // in its text, before shortening it (a cut could leave part of one unmasked).
  const str = maskCredentialsInText(typeof v === 'string' ? v : JSON.stringify(v));
  return JSON.stringify(str.length > 80 ? `${str.slice(0, 77)}...` : str);
}

function readConfigFile(path: string): Record<string, unknown> {
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

/** Load and validate the configuration; throws a one-line `ConfigError` naming the bad setting. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env: Record<string, string | undefined> = { ...(opts.env ?? process.env) };
  const dotenvPath = opts.dotenvFile === undefined ? '.env' : opts.dotenvFile;
  if (dotenvPath && existsSync(dotenvPath)) {
    for (const [k, v] of Object.entries(parseDotenv(readFileSync(dotenvPath))))
      if (env[k] === undefined) env[k] = v;
  }
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
