/**
 * The fleet's request limiter (src/fleet/rateLimiter.ts) on real Redis: limiters on separate connections share
 * one budget with evenly spaced slots (≤ RPS + 1 in every 1-second sliding window), a 429 pause set through
 * one holds back the others, the per-second counts feed `status`, the API key never appears in a key, and an
 * unreachable or silent Redis makes the limiter fall back to per-process pacing instead of blocking or throwing.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createFleetRateLimiter, fleetRequestRate } from '../../src/fleet/index.ts';
import { processRequestLimiter } from '../../src/retab/index.ts';
import { captureLogger } from '../retab/logCapture.ts';
import { maxInAnySecond } from './rateWindows.ts';

const redisUrl = inject('redisUrl');
const prefix = `test-rate-${randomUUID()}`;
const scope = { baseUrl: 'http://127.0.0.1:1/v1', apiKey: `sk_test_${randomUUID()}` };

/** A limiter as one process builds it: its fallback (pacer and 429 pause) is its own, as in another process. */
function limiter(redis: Redis, perSecond: number) {
  const own = { ...scope, baseUrl: `http://127.0.0.1:1/${randomUUID()}` };
  return createFleetRateLimiter(redis, {
    prefix,
    perSecond,
    scope,
    fallback: processRequestLimiter(perSecond, own),
  });
}

describe('the fleet rate limiter', () => {
  const a = new Redis(redisUrl);
  const b = new Redis(redisUrl);
  // A connection not ready yet is "Redis unreachable" to the limiter (it would pace per process).
  beforeAll(() => Promise.all([a.ping(), b.ping()]));
  afterAll(async () => {
    const keys = await a.keys(`${prefix}:*`);
    if (keys.length) await a.del(...keys);
    a.disconnect();
    b.disconnect();
  });

  it('two limiters on separate connections share one budget: ≤ RPS + 1 in every 1-s window', async () => {
    const rps = 20;
    const limiters = [limiter(a, rps), limiter(b, rps)];
    const granted: number[] = [];
    const started = performance.now();
    // Four concurrent takers per limiter, 15 turns each: 120 turns that need ~6 s at 20/s for the fleet.
    await Promise.all(
      limiters.flatMap((l) =>
        [0, 1, 2, 3].map(async () => {
          for (let i = 0; i < 15; i++) {
            await l.acquire();
            granted.push(performance.now());
          }
        }),
      ),
    );
    const elapsed = performance.now() - started;
    expect(granted).toHaveLength(120);
    expect(maxInAnySecond(granted)).toBeLessThanOrEqual(rps + 1);
    // One budget, not two: 120 turns at 20/s take ≥ 119 gaps of 50 ms.
    expect(elapsed).toBeGreaterThanOrEqual(119 * 50 - 20);

    const rate = await fleetRequestRate(a, prefix, 5);
    expect(rate.windowSeconds).toBe(5);
    expect(rate.perSecond).toBeGreaterThan(rps / 2);
    expect(rate.peakPerSecond).toBeLessThanOrEqual(rps + 1);
    // The API key is hashed: no key of the fleet names it.
    const keys = await a.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => k.includes(scope.apiKey))).toEqual([]);
  }, 20_000);

  it('a stalled event loop does not bunch requests: turns woken late take new slots', async () => {
    const rps = 10;
    const limiters = [limiter(a, rps), limiter(b, rps)];
    await new Promise((r) => setTimeout(r, 1100)); // the budget from any earlier turn is spent
    const granted: number[] = [];
    // 600 ms after the start, the process freezes for 600 ms (a long GC pause, a starved CPU): six takers
    // are asleep until slots that pass meanwhile.
    const stall = setTimeout(() => {
      const end = performance.now() + 600;
      while (performance.now() < end) {}
    }, 600);
    await Promise.all(
      limiters.flatMap((l) =>
        [0, 1, 2].map(async () => {
          for (let i = 0; i < 10; i++) {
            await l.acquire();
            granted.push(performance.now());
          }
        }),
      ),
    );
    clearTimeout(stall);
    expect(granted).toHaveLength(60);
    expect(maxInAnySecond(granted)).toBeLessThanOrEqual(rps + 1);
  }, 20_000);

  it('a pause set through one limiter delays the other, also a turn already waiting for its slot', async () => {
    const one = limiter(a, 2);
    const other = limiter(b, 2);
    await new Promise((r) => setTimeout(r, 600)); // the budget from any earlier turn is spent
    await other.acquire(); // now
    const t0 = performance.now();
    const waiting = other.acquire().then(() => performance.now() - t0); // its slot: +500 ms
    await new Promise((r) => setTimeout(r, 100));
    one.pause(1000); // a 429 seen by the other process: nothing before +1100 ms
    expect(await waiting).toBeGreaterThanOrEqual(1100 - 15);
    // The pause is in Redis: a limiter built afterwards (a process that starts now) honours it too.
    one.pause(700);
    const t1 = performance.now();
    await limiter(b, 2).acquire();
    expect(performance.now() - t1).toBeGreaterThanOrEqual(700 - 15);
  }, 10_000);

  it('Redis unreachable: falls back to pacing this process alone, warns once, never throws nor blocks', async () => {
    // A port nobody listens on: the connection never becomes ready.
    const dead = await closedPort();
    const down = new Redis({ port: dead, host: '127.0.0.1', maxRetriesPerRequest: null, lazyConnect: true });
    down.on('error', () => {});
    down.connect().catch(() => {});
    const { logger, records } = captureLogger();
    const l = createFleetRateLimiter(down, {
      prefix,
      perSecond: 10,
      scope: { ...scope, baseUrl: 'http://127.0.0.1:2/v1' },
      fallback: processRequestLimiter(10, { ...scope, baseUrl: 'http://127.0.0.1:2/v1' }),
      logger,
    });
    try {
      const t0 = performance.now();
      for (let i = 0; i < 6; i++) await l.acquire();
      // Paced at 10/s by the process-local fallback: the sixth turn is 500 ms after the first.
      expect(performance.now() - t0).toBeGreaterThanOrEqual(5 * 100 - 15);
      expect(() => l.pause(300)).not.toThrow();
      const t = performance.now();
      await l.acquire(); // the fallback keeps the pause
      expect(performance.now() - t).toBeGreaterThanOrEqual(300 - 15);
      const warnings = records().filter((r) => r.level === 40);
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]?.msg)).toMatch(/RATE_LIMIT_RPS=10/);
      expect(JSON.stringify(records())).not.toContain(scope.apiKey);
    } finally {
      down.disconnect();
    }
  });

  it('a Redis that accepts but never answers: a turn falls back after timeoutMs, the next ones at once', async () => {
    const silent = await silentServer();
    const mute = new Redis({
      port: silent.port,
      host: '127.0.0.1',
      maxRetriesPerRequest: null,
      enableReadyCheck: false,
    });
    mute.on('error', () => {});
    try {
      if (mute.status !== 'ready') await new Promise<void>((r) => mute.once('ready', () => r()));
      silent.mute();
      const s = { ...scope, baseUrl: 'http://127.0.0.1:3/v1' };
      const l = createFleetRateLimiter(mute, {
        prefix,
        perSecond: 50,
        scope: s,
        fallback: processRequestLimiter(50, s),
        timeoutMs: 200,
        retryMs: 60_000,
      });
      const t = performance.now();
      await l.acquire(); // one timeout
      await l.acquire(); // on the fallback at once: Redis is not asked again before retryMs
      await l.acquire();
      expect(performance.now() - t).toBeGreaterThanOrEqual(200 - 15);
      expect(performance.now() - t).toBeLessThan(5000);
      expect(silent.unanswered()).toBe(1);
    } finally {
      mute.disconnect();
      await silent.close();
    }
  });
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * A hung Redis: a TCP server that says `+OK` to the connection's handshake and, once `mute()` is called,
 * accepts everything and answers nothing.
 */
async function silentServer(): Promise<{
  port: number;
  mute(): void;
  /** Commands received since `mute()`. */
  unanswered(): number;
  close(): Promise<void>;
}> {
  const sockets: Socket[] = [];
  let muted = false;
  let unanswered = 0;
  const srv: Server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.on('data', (d) => {
      // One `+OK` per command (each starts with a `*<n>` line).
      const commands = String(d)
        .split('\r\n')
        .filter((l) => /^\*\d+$/.test(l)).length;
      if (muted) unanswered += commands;
      else s.write('+OK\r\n'.repeat(commands));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as { port: number }).port,
    mute: () => {
      muted = true;
    },
    unanswered: () => unanswered,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
