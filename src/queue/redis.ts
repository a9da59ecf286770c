/**
 * Redis connections for BullMQ. We build the ioredis clients ourselves (BullMQ 6 cannot load ioredis from
 * options in native ESM) so that one place decides how an outage looks: the first failure names REDIS_URL,
 * every reconnect attempt is one warn line with the next delay (never a stack trace), and the recovery is
 * one info line. Reconnection is ioredis' job (`retryStrategy` never gives up); BullMQ resumes on `ready`.
 */
import { Redis } from 'ioredis';
import { backoffMs } from '../backoff.ts';
import { maskCredentials } from '../credentials.ts';
import type { Logger } from '../log.ts';

export interface RedisRetryOptions {
  /** First reconnect delay, ms. @default 500 */
  minDelayMs?: number;
  /** Cap of the exponential reconnect delay, ms. @default 10000 */
  maxDelayMs?: number;
  /** Give up after this many consecutive failed attempts (one-shot commands); none gives up. @default Infinity */
  maxAttempts?: number;
}

/**
 * `redis://user:secret@host:6379/0` → `redis://host:6379/0`: a URL that can be logged (a credential in its
 * query, `?password=…`, is masked too).
 */
export function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return maskCredentials(u.toString().replace(/\/$/, ''));
  } catch {
    return '(invalid REDIS_URL)';
  }
}

/** Whether a Redis error says the credentials were refused (wrong or missing user/password in REDIS_URL). */
export function isRedisAuthError(message: string): boolean {
  return /WRONGPASS|NOAUTH|invalid password|without any password|invalid username-password/i.test(message);
}

/**
 * One line for a failed Redis connection, naming REDIS_URL and what to fix: refused credentials are not an
 * unreachable server (retrying cannot help; the password in REDIS_URL is wrong). The URL is shown without
 * its credentials.
 */
export function describeRedisProblem(url: string, cause: string): string {
  const where = safeRedisUrl(url);
  if (isRedisAuthError(cause)) {
    return `Redis at ${where} refused the credentials: authentication failed (${cause}); set the right user and password in REDIS_URL (redis://user:password@host:port)`;
  }
  return `cannot reach Redis at ${where}${cause ? ` (${cause})` : ''}; check REDIS_URL and that redis-server is running`;
}

export function reconnectDelay(attempt: number, opts: RedisRetryOptions = {}): number {
  const min = opts.minDelayMs ?? 500;
  const max = opts.maxDelayMs ?? 10_000;
  return backoffMs(attempt, { minMs: min, maxMs: max });
}

/**
 * One health view over every connection of a process (the queue's, the worker's and the copies BullMQ makes
 * of them), so an outage is reported once per retry step rather than once per socket.
 */
export class RedisHealth {
  private down = false;
  private nextLogAt = 0;
  private lastError = '';
  private readonly recoveredListeners: (() => void)[] = [];

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  get reachable(): boolean {
    return !this.down;
  }

  /** The last connection error seen, one line (empty before any). */
  get lastErrorMessage(): string {
    return this.lastError;
  }

  onError(err: Error): void {
    this.lastError = describeRedisError(err);
  }

  onRetry(attempt: number, delayMs: number): void {
    const now = Date.now();
    const first = !this.down;
    this.down = true;
    if (!first && now < this.nextLogAt) return;
    this.nextLogAt = now + delayMs * 0.9;
    const where = safeRedisUrl(this.url);
    const cause = this.lastError ? ` (${this.lastError})` : '';
    const still = isRedisAuthError(this.lastError)
      ? `Redis at ${where} still refuses the credentials in REDIS_URL${cause}`
      : `Redis at ${where} still unreachable${cause}`;
    this.logger.warn(
      { redis: where, attempt, nextRetryMs: delayMs },
      first
        ? `${describeRedisProblem(this.url, this.lastError)}. Retrying in ${delayMs} ms`
        : `${still}; retry ${attempt} in ${delayMs} ms`,
    );
  }

  onReady(): void {
    if (!this.down) return;
    this.down = false;
    this.nextLogAt = 0;
    this.logger.info({ redis: safeRedisUrl(this.url) }, 'Redis reachable again; resuming');
    for (const listener of this.recoveredListeners) listener();
  }

  /** Called after each outage, once Redis answers again. */
  onRecovered(listener: () => void): void {
    this.recoveredListeners.push(listener);
  }
}

/** `connect ECONNREFUSED 127.0.0.1:6379` rather than an AggregateError's empty message. */
export function describeRedisError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeRedisError(err.errors[0]);
  const e = err as NodeJS.ErrnoException;
  return e?.message || e?.code || String(err);
}

export interface CreateRedisOptions extends RedisRetryOptions {
  health: RedisHealth;
  /** Shown by `CLIENT LIST`. */
  connectionName?: string;
}

/**
 * An ioredis client fit for BullMQ (`maxRetriesPerRequest: null`: commands wait for the reconnection instead of
 * failing; no ioredis `keyPrefix`: BullMQ's `prefix` namespaces the keys).
 */
export function createRedis(url: string, opts: CreateRedisOptions): Redis {
  const { health } = opts;
  const maxAttempts = opts.maxAttempts ?? Number.POSITIVE_INFINITY;
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: opts.connectionName ?? 'retab-mirror',
    retryStrategy: (attempt: number) => {
      if (attempt > maxAttempts) return null;
      const delay = reconnectDelay(attempt, opts);
      health.onRetry(attempt, delay);
      return delay;
    },
  });
  // Without a listener ioredis prints "Unhandled error event" with a stack on every failed attempt.
  redis.on('error', (err: Error) => health.onError(err));
  redis.on('ready', () => health.onReady());
  return redis;
}

/** Resolves once `redis` is ready; rejects if it ends (gave up) or `signal` aborts first. */
export function waitForReady(redis: Redis, signal?: AbortSignal): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      signal?.removeEventListener('abort', onAbort);
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('Redis connection closed'));
    };
    const onAbort = () => {
      cleanup();
      reject(signal?.reason ?? new Error('aborted'));
    };
    redis.on('ready', onReady);
    redis.on('end', onEnd);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Close politely (QUIT) when Redis answers, else drop the socket: shutdown never hangs on a dead Redis. */
export async function closeRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      redis.quit().catch(() => undefined),
      new Promise((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
  redis.disconnect();
}

/** True when a Redis answers PING at `url` within `timeoutMs`; one quiet attempt, no reconnects. */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
