/**
 * Every setting declared once: its config-file key, environment variable, validation, default and one-line
 * doc (the README's configuration table is generated from it and checked by a test), and the `Config` the
 * settings load into.
 */
import * as z from 'zod';
import { parseMirrorLocation } from '../mirrorLocation.ts';
import { ACTIVE_STATUSES, type ActiveStatus, SOURCES, TERMINAL_STATUSES } from '../retab/index.ts';
import { type AlertRule, AlertRuleSchema, WebhookSchema } from './alerting.ts';
import { LOG_LEVELS, PAYLOAD_MODES, type PayloadMode } from './choices.ts';
import { csv, headerToken, int, json, nearKnownStatus } from './parsers.ts';

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
    // A path is taken as given (resolved when opened); a URL with a typo'd scheme is refused here (exit 2).
    z
      .string()
      .min(1)
      .superRefine((v, ctx) => {
        try {
          parseMirrorLocation(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }),
    './data/mirror.db',
    'The mirror: an SQLite file (its folder is created) or a PostgreSQL database, `postgres://user:password@host:5432/db` (see Choosing a store).',
  ),
  s(
    'dbPoolSize',
    'MIRROR_DB_POOL_SIZE',
    int(1, 1000),
    10,
    'PostgreSQL only: connections per process at most (each of the worker, the server and each command has its own pool).',
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
    'Upstream requests per second of the whole fleet: every worker on one Redis and QUEUE_PREFIX shares it (evenly spaced, retries included; a 429 pauses them all; per process while Redis is unreachable); also caps sync task starts per second.',
  ),
  s('workerConcurrency', 'WORKER_CONCURRENCY', int(1, 64), 4, 'Sync jobs one worker runs at once.'),
  s(
    'leaseTtlMs',
    'LEASE_TTL_MS',
    int(1000, 600_000),
    30_000,
    "Lifetime of a partition or sink-lane lease held in Redis, ms (1000–600000); renewed every third of it while held. A dead worker's partitions and sink lanes are free after at most this long, and its running tasks are re-run within about twice it (BullMQ's job lock lives as long).",
  ),
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
  dbPoolSize: number;
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
  leaseTtlMs: number;
  serverHost: string;
  serverPort: number;
  serverToken?: string;
  eventsQueue: string;
  eventsQueueEnabled: boolean;
  webhookSecret?: string;
  webhooks: z.infer<typeof WebhookSchema>[];
  alertRules: AlertRule[];
}
