/**
 * A child process for test/fleet/laneLeases.test.ts: one dispatcher as the worker runs it (sink-lane leases
 * on its own Redis connection), delivering the PostgreSQL mirror's outbox to the webhooks in `HOOKS`, until
 * it is killed. Prints `ready` once started. Run with `node --import tsx`.
 *
 * Env: MIRROR_URL, REDIS_URL, PREFIX (QUEUE_PREFIX), TTL_MS (lease TTL), HOOKS (JSON `[{name, url}]`).
 */
import { Redis } from 'ioredis';
import { AlertRuleSchema } from '../../src/config.ts';
import { createDispatcher } from '../../src/events/index.ts';
import { tryAcquireLease } from '../../src/fleet/index.ts';
import { openStore } from '../../src/mirror/index.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`laneHolder: ${name} is not set`);
  return v;
};
const prefix = env('PREFIX');
const ttlMs = Number(env('TTL_MS'));
const hooks = JSON.parse(env('HOOKS')) as { name: string; url: string }[];
const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
const mirror = await openStore(env('MIRROR_URL'));
const d = createDispatcher({
  mirror,
  config: {
    webhooks: hooks.map((h) => ({ ...h, secret: 'lane-lease-secret' })),
    webhookSecret: undefined,
    alertRules: [
      AlertRuleSchema.parse({
        name: 'all',
        when: { includeBackfill: true },
        sinks: hooks.map((h) => h.name),
      }),
    ],
    eventsQueue: 'events',
    eventsQueueEnabled: false,
    queuePrefix: prefix,
  },
  log: false,
  pollMs: 100,
  batchSize: 20,
  leases: (name) => tryAcquireLease(redis, name, { prefix, ttlMs }),
  leaseRetryMs: Math.floor(ttlMs / 3),
});
d.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void d
    .stop()
    .then(() => mirror.close())
    .finally(() => process.exit(0));
});
