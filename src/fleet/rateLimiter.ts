/**
 * One upstream budget for the fleet: every client built with the same `prefix` (QUEUE_PREFIX), upstream and
 * API key shares `perSecond` (RATE_LIMIT_RPS), whichever process or machine it runs in, and a 429 seen by any
 * of them pauses all of them.
 *
 * The budget is a GCRA / leaky bucket without bursts: one Lua script (atomic, so the fleet is served in one
 * order) reads Redis `TIME`, and hands the caller the next free slot `max(now, pause end, next)` and moves
 * `next` one gap (1 s / perSecond, rounded up to a µs) further. Slots are therefore at least one gap apart on
 * one clock (Redis's), so any 1-second window holds at most `perSecond` of them — unlike a counter per fixed
 * second, which lets `2 × perSecond` through around a second's boundary. The caller sleeps until its slot;
 * when it had to sleep, it looks at the pause once more before sending (a 429 may have come meanwhile) and
 * takes a new slot if one did. A caller that finds itself more than a quarter gap past its slot, beyond its
 * usual Redis round trips (a stalled event loop: GC, a starved CPU), takes a new slot too rather than bunch
 * with the next ones (at most 5 times), so sends lag their slots by under a gap and any 1-second window holds
 * at most `perSecond + 1` sends (while the round trip to Redis stays well under a gap: 100 ms at 10/s).
 *
 * A 429's Retry-After is a key with `PX` that the same script honours: no slot is given before it expires.
 * The same script counts granted slots per second (a 16-second ring in one hash) for `retab-mirror status`.
 *
 * Keys (the API key appears only as a SHA-256 prefix): `<prefix>:fleet:rate:<upstream>:next` (µs, Redis
 * clock), `<prefix>:fleet:rate:<upstream>:pause`, `<prefix>:fleet:rate:requests` (per-second counts).
 *
 * While Redis is unreachable (not connected, or no answer within `timeoutMs`) the limiter never waits for it:
 * it falls back to the process-local limiter at `perSecond` (retab's `processRequestLimiter`, whose 429 pause
 * it also keeps up to date), warns once per outage, and tries Redis again after `retryMs`. The fleet may then
 * send up to N × perSecond for N processes; upstream 429s still pause each one.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from '../backoff.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { LimiterScope, RequestLimiter } from '../retab/index.ts';

export interface FleetRateLimiterOptions {
  /** The key prefix of the fleet (QUEUE_PREFIX). */
  prefix: string;
  /** Requests a second for the whole fleet (RATE_LIMIT_RPS). */
  perSecond: number;
  /** The upstream and key the budget belongs to (the client passes its own). */
  scope: LimiterScope;
  /** Where the fall-back warning goes. @default silentLogger */
  logger?: Logger;
  /** How long one Redis call may take before this process falls back, ms. @default 1000 */
  timeoutMs?: number;
  /** After a timeout, how long to stay on the fallback before asking Redis again, ms. @default 5000 */
  retryMs?: number;
  /**
   * The process-local limiter used while Redis is unreachable: retab's `processRequestLimiter(perSecond,
   * scope)` (passed in: this folder imports only types from others).
   */
  fallback: RequestLimiter;
}

/**
 * A turn answered or woken later than `max(gap / 4, MIN_LATE_MS)` after its slot takes a new slot, at most
 * `MAX_RETAKES` times (a CPU starved for good must still make progress).
 */
const MIN_LATE_MS = 5;
const MAX_RETAKES = 5;

/** Seconds kept by the per-second request counts (a ring); `status` reads the last 10. */
const RING_SECONDS = 16;

/**
 * KEYS: next slot, pause, counts. ARGV: gap µs. Returns the wait before the granted slot, µs.
 * Times are µs since the epoch on Redis's clock (doubles: exact below 2^53, i.e. for 285 years).
 */
const TAKE = `
redis.replicate_commands() -- writes after TIME: needed before Redis 5, a no-op since
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local gap = tonumber(ARGV[1])
local start = now
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then start = now + paused * 1000 end
local slot = math.max(start, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%.0f', slot + gap), 'PX', math.floor((slot + gap - now) / 1000) + 60000)
local sec = math.floor(slot / 1000000)
local f = tostring(sec % ${RING_SECONDS})
if redis.call('HGET', KEYS[3], 't' .. f) == string.format('%d', sec) then
  redis.call('HINCRBY', KEYS[3], f, 1)
else
  redis.call('HSET', KEYS[3], f, 1, 't' .. f, string.format('%d', sec))
end
redis.call('PEXPIRE', KEYS[3], ${RING_SECONDS * 2000})
return slot - now
`;

/** KEYS: pause. ARGV: ms. Keeps a longer pause already running. */
const PAUSE = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`;

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const TAKE_SHA = sha1(TAKE);

/** The budget's key stem for an upstream and key: the key is hashed, never stored. */
export function rateKey(prefix: string, scope: LimiterScope): string {
  const upstream = createHash('sha256')
    .update(`${scope.baseUrl.replace(/\/+$/, '')}\u0000${scope.apiKey}`)
    .digest('hex')
    .slice(0, 16);
  return `${prefix}:fleet:rate:${upstream}`;
}

export function requestCountKey(prefix: string): string {
  return `${prefix}:fleet:rate:requests`;
}

/** EVALSHA, loading the script on the first call (or after a Redis restart: NOSCRIPT). */
async function runScript(
  redis: Redis,
  sha: string,
  script: string,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
    return redis.eval(script, keys.length, ...keys, ...args);
  }
}

class RedisTimeout extends Error {
  override name = 'RedisTimeout';
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeout(`no answer from Redis within ${ms} ms`)), ms);
    }),
  ]);
}

/** `sleep`, rejecting with the signal's own reason (the caller's "why") like the process pacer. */
function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch((err: unknown) => {
    throw signal?.aborted ? signal.reason : err;
  });
}

/**
 * The fleet's request limiter on `redis` (an ioredis connection the caller owns and closes; the worker's
 * queue connection does). Never throws but for the caller's abort; see the header for Redis outages.
 */
export function createFleetRateLimiter(redis: Redis, opts: FleetRateLimiterOptions): RequestLimiter {
  const stem = rateKey(opts.prefix, opts.scope);
  const keys = [`${stem}:next`, `${stem}:pause`, requestCountKey(opts.prefix)];
  const pauseKey = `${stem}:pause`;
  const gapUs = Math.ceil(1_000_000 / opts.perSecond);
  const timeoutMs = opts.timeoutMs ?? 1000;
  const retryMs = opts.retryMs ?? 5000;
  const { fallback } = opts;
  // A request sent less than a gap after its slot keeps every 1-s window at ≤ perSecond + 1; a quarter gap
  // here leaves the rest for what follows the check (the send itself, a busy upstream, the network).
  const lateMs = Math.max(gapUs / 4000, MIN_LATE_MS);
  const log = (opts.logger ?? silentLogger).child({ component: 'fleet-rate-limit' });
  let downUntil = 0;
  let down = false;
  // The usual round trip to Redis, ms: the least seen, creeping up 0.05 ms a turn so it follows a slower
  // network but not one stall.
  let usualRoundTripMs = Number.POSITIVE_INFINITY;
  const noteRoundTrip = (ms: number) => {
    usualRoundTripMs = Math.min(ms, usualRoundTripMs + 0.05);
  };

  const usable = () => redis.status === 'ready' && performance.now() >= downUntil;
  const fellBack = (err: unknown) => {
    if (err instanceof RedisTimeout) downUntil = performance.now() + retryMs;
    if (down) return;
    down = true;
    log.warn(
      { err: (err as Error).message, perSecond: opts.perSecond },
      `the fleet's rate limit is out of reach (Redis); this process paces itself alone at RATE_LIMIT_RPS=${opts.perSecond} until Redis answers`,
    );
  };
  const recovered = () => {
    if (!down) return;
    down = false;
    log.info("Redis answers again: back on the fleet's shared rate limit");
  };

  return {
    async acquire(signal) {
      for (let retake = 0; ; retake++) {
        signal?.throwIfAborted();
        if (!usable()) {
          if (!down) fellBack(new Error(`Redis connection ${redis.status}`));
          return fallback.acquire(signal);
        }
        // The slot on this process's clock, from the moment the script was sent (Redis ran it later): a
        // lateness measured from here is overestimated by up to one round trip, which is allowed for.
        const sentAt = performance.now();
        let slotAt: number;
        let roundTrips = 1;
        try {
          const waitUs = Number(await within(runScript(redis, TAKE_SHA, TAKE, keys, [gapUs]), timeoutMs));
          noteRoundTrip(performance.now() - sentAt);
          slotAt = sentAt + waitUs / 1000;
          recovered();
          if (waitUs > 0) {
            await wait(Math.ceil(slotAt - performance.now()), signal);
            // A 429 may have paused the fleet while this slot was waited for: then take a slot after it.
            roundTrips = 2;
            if ((await within(redis.pttl(pauseKey), timeoutMs)) > 0) continue;
          }
        } catch (err) {
          if (signal?.aborted) throw signal.reason;
          fellBack(err);
          return fallback.acquire(signal);
        }
        // Woken (or answered) late, e.g. an event loop stalled by GC or a starved CPU: going now could bunch
        // with the slots after this one; take a new slot instead, a few times at most. The usual round trips
        // to Redis are not lateness (a Redis far away must not make every turn retake).
        const late = performance.now() - slotAt - roundTrips * usualRoundTripMs;
        if (late <= lateMs || retake >= MAX_RETAKES) return;
      }
    },
    pause(ms) {
      const whole = Math.max(1, Math.ceil(ms));
      fallback.pause(whole);
      if (redis.status !== 'ready') return;
      // EVAL, not EVALSHA: a NOSCRIPT answer would let a turn queued behind it on this connection run
      // before the pause is set. A 429 is rare; the script's bytes are not worth that.
      within(redis.eval(PAUSE, 1, pauseKey, whole), timeoutMs).catch(fellBack);
    },
  };
}

export interface FleetRequestRate {
  /** Requests granted per second, averaged over the last `windowSeconds` seconds, this one included (Redis clock). */
  perSecond: number;
  /** The busiest of those seconds. */
  peakPerSecond: number;
  windowSeconds: number;
}

/**
 * The fleet's request rate under `prefix` over the last `windowSeconds` (≤ 15) seconds (the current one, begun,
 * and those before it), from the counts
 * the limiter keeps. Requests sent while a process had fallen back (Redis unreachable) are not counted.
 */
export async function fleetRequestRate(
  redis: Redis,
  prefix: string,
  windowSeconds = 10,
): Promise<FleetRequestRate> {
  const seconds = Math.min(RING_SECONDS - 1, Math.max(1, Math.floor(windowSeconds)));
  const [time, ring] = await Promise.all([redis.time(), redis.hgetall(requestCountKey(prefix))]);
  const now = Number(time[0]);
  let total = 0;
  let peak = 0;
  for (let s = now - seconds + 1; s <= now; s++) {
    const f = String(((s % RING_SECONDS) + RING_SECONDS) % RING_SECONDS);
    const n = ring[`t${f}`] === String(s) ? Number(ring[f] ?? 0) : 0;
    total += n;
    peak = Math.max(peak, n);
  }
  return { perSecond: total / seconds, peakPerSecond: peak, windowSeconds: seconds };
}
