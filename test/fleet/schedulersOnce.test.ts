/**
 * Schedulers are reconciled by whichever worker starts: N workers starting together on one prefix create
 * each scheduler once (one "created" in the whole fleet, one pending run per scheduler), and a config change
 * rolled out to N workers at once still removes the stale ones, once.
 */
import { Redis } from 'ioredis';
import { afterAll, expect, inject, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { createSyncQueue } from '../../src/queue/index.ts';
import { type SchedulerSyncResult, syncSchedulers } from '../../src/queue/schedulers.ts';
import type { SyncQueue } from '../../src/queue/syncQueue.ts';
import { dropPrefix, testConfig } from '../queue/helpers.ts';

const redisUrl = inject('redisUrl');
const N = 5;
const config = testConfig({ redisUrl, dbPath: '/nonexistent/unused.db' }, { activeEveryMs: 20_000 });
const ALL = ['active:in_progress', 'active:queued', 'active:validating', 'head', 'hydrate', 'reconcile'];

/** N "workers": each its own Redis connection and queue handle, as on N machines. */
const fleet = Array.from({ length: N }, () => {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  return { redis, queue: createSyncQueue(redis, config.queuePrefix) };
});

afterAll(async () => {
  for (const w of fleet) {
    await w.queue.close();
    w.redis.disconnect();
  }
  await dropPrefix(redisUrl, config.queuePrefix);
});

const all = (results: SchedulerSyncResult[], key: keyof SchedulerSyncResult) =>
  results.flatMap((r) => r[key]).sort();

async function pendingPerScheduler(queue: SyncQueue): Promise<Map<string, number>> {
  const pending = await queue.getJobs(['delayed', 'waiting', 'prioritized']);
  const per = new Map<string, number>();
  for (const j of pending) if (j.repeatJobKey) per.set(j.repeatJobKey, (per.get(j.repeatJobKey) ?? 0) + 1);
  return per;
}

it(`${N} workers starting together create each scheduler once, and a config change removes stale ones once`, async () => {
  const first = await Promise.all(fleet.map((w) => syncSchedulers(w.queue, config, silentLogger)));
  expect(all(first, 'created')).toEqual(ALL);
  const queue = fleet[0]?.queue as SyncQueue;
  expect((await queue.getJobSchedulers()).map((s) => s.key).sort()).toEqual(ALL);
  const per = await pendingPerScheduler(queue);
  // reconcile's first run is deferred by its interval, every other scheduler's is due now: one each.
  for (const id of ALL) expect(per.get(id), id).toBe(1);

  const changed = { ...config, activeEveryMs: 45_000, activeStatuses: ['queued', 'in_progress'] };
  const second = await Promise.all(fleet.map((w) => syncSchedulers(w.queue, changed, silentLogger)));
  expect(all(second, 'removed')).toEqual(['active:validating']);
  expect(all(second, 'updated')).toEqual(['active:in_progress', 'active:queued']);
  expect(all(second, 'created')).toEqual([]);
  const after = await queue.getJobSchedulers();
  expect(after.map((s) => s.key).sort()).toEqual(ALL.filter((id) => id !== 'active:validating'));
  expect(after.find((s) => s.key === 'active:queued')?.every).toBe(45_000);
  const perAfter = await pendingPerScheduler(queue);
  expect(perAfter.get('active:validating')).toBeUndefined();
  for (const id of ALL.filter((x) => x !== 'active:validating')) expect(perAfter.get(id), id).toBe(1);
});
