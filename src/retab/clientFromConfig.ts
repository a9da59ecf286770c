import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { createRetabClient } from './client.ts';
import type { RetabClient } from './clientTypes.ts';
import type { RetabClientOptions } from './options.ts';

/**
 * The client as the settings describe it: one place maps RETAB_* / REQUEST_TIMEOUT_MS / MAX_RETRIES / RATE_LIMIT_RPS.
 * `requestLimiter` replaces the process-local pacing (the worker passes the fleet's, held in Redis).
 */
export function clientFromConfig(
  config: Pick<Config, 'apiKey' | 'baseUrl' | 'requestTimeoutMs' | 'maxRetries' | 'rateLimitPerSecond'>,
  logger?: Logger,
  extra: Pick<RetabClientOptions, 'requestLimiter'> = {},
): RetabClient {
  return createRetabClient({
    apiKey: config.apiKey,
    baseUrl: config.baseUrl,
    timeoutMs: config.requestTimeoutMs,
    maxRetries: config.maxRetries,
    maxRequestsPerSecond: config.rateLimitPerSecond,
    ...(logger ? { logger } : {}),
    ...(extra.requestLimiter ? { requestLimiter: extra.requestLimiter } : {}),
  });
}
