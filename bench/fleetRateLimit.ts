/**
 * What the fleet rate limiter costs per upstream request: one `acquire` is one EVALSHA of the slot script
 * (Redis TIME, GET/SET of the next slot, PTTL of the pause, a per-second counter) on the worker's Redis.
 *
 *   npx tsx bench/fleetRateLimit.ts [--takes 10000] [--redis redis://127.0.0.1:6379]
 *
 * With a budget far above the rate asked (1e6/s) no turn waits, so the time is the limiter's own:
 * - `PING`: the bare round trip to this Redis, for reference;
 * - `acquire, one at a time`: the latency a request pays before it leaves;
 * - `acquire, 16 at once`: the throughput the fleet's budget can serve (concurrent takers, one connection);
 *
 * Measured 2026-12-01 on the shared 2-core machine (load average ~11), loopback Redis 7: PING 120–150 µs;
 * acquire one at a time 90–120 µs (one round trip: the script's work does not show); 16 at once 39–49 µs
 * each, i.e. 20–25k turns/s on one connection — far above any upstream budget.
 * Keys go under a fresh `bench-rate-<pid>` prefix, deleted at the end.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createFleetRateLimiter } from '../src/fleet/index.ts';
import { processRequestLimiter } from '../src/retab/index.ts';

const { values } = parseArgs({
  options: { takes: { type: 'string', default: '10000' }, redis: { type: 'string' } },
});
const takes = Number(values.takes);
const redis = new Redis(values.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `bench-rate-${process.pid}`;
const scope = { baseUrl: 'https://api.retab.com/v1', apiKey: 'sk_bench' };
const perSecond = 1_000_000;

async function time(label: string, n: number, fn: () => Promise<unknown>, parallel = 1): Promise<void> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = 0; i < n / parallel; i++) await fn();
    }),
  );
  const ms = performance.now() - t0;
  const each = ((ms * 1000) / n).toFixed(1);
  console.log(
    `${label.padEnd(28)} ${n} in ${ms.toFixed(0)} ms: ${each} µs each, ${Math.round(n / (ms / 1000))}/s`,
  );
}

try {
  await redis.ping();
  const fleet = createFleetRateLimiter(redis, {
    prefix,
    perSecond,
    scope,
    fallback: processRequestLimiter(perSecond, scope),
  });
  await fleet.acquire(); // loads the script
  await time('PING', takes, () => redis.ping());
  await time('acquire, one at a time', takes, () => fleet.acquire());
  await time('acquire, 16 at once', takes, () => fleet.acquire(), 16);
} finally {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}
