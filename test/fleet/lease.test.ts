/** Redis leases (src/fleet/lease.ts): exclusive across clients, renewed while held, lost when taken over. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  acquireLease,
  LeaseLostError,
  leaseKey,
  listLeases,
  tryAcquireLease,
} from '../../src/fleet/index.ts';

const redisUrl = inject('redisUrl');
const prefix = `test-lease-${process.pid}-${Date.now()}`;

describe('Redis leases', () => {
  const a = new Redis(redisUrl);
  const b = new Redis(redisUrl);
  afterAll(async () => {
    const keys = await a.keys(`${prefix}:*`);
    if (keys.length) await a.del(...keys);
    a.disconnect();
    b.disconnect();
  });

  it('one holder at a time; released leases are free again; status lists the holder', async () => {
    const first = await tryAcquireLease(a, 'partition:head', { prefix, ttlMs: 3000, owner: 'host-a:1' });
    expect(first).toBeDefined();
    expect(
      await tryAcquireLease(b, 'partition:head', { prefix, ttlMs: 3000, owner: 'host-b:2' }),
    ).toBeUndefined();
    expect(await listLeases(b, prefix)).toEqual([
      expect.objectContaining({ name: 'partition:head', owner: 'host-a:1' }),
    ]);
    await first?.release();
    const second = await tryAcquireLease(b, 'partition:head', { prefix, ttlMs: 3000, owner: 'host-b:2' });
    expect(second).toBeDefined();
    await second?.release();
    expect(await listLeases(a, prefix)).toEqual([]);
  });

  it('is renewed while held (outlives its TTL) and a waiter gets it once released', async () => {
    const held = await tryAcquireLease(a, 'lane:webhook', { prefix, ttlMs: 300 });
    await new Promise((r) => setTimeout(r, 900));
    expect(held?.signal.aborted).toBe(false);
    expect(await tryAcquireLease(b, 'lane:webhook', { prefix, ttlMs: 300 })).toBeUndefined();
    const waiting = acquireLease(b, 'lane:webhook', { prefix, ttlMs: 300, pollMs: 20 });
    setTimeout(() => void held?.release(), 100);
    const next = await waiting;
    expect(next.name).toBe('lane:webhook');
    await next.release();
  });

  it('a holder whose lease was taken over learns it at its next renewal and never deletes the new lease', async () => {
    const stale = await tryAcquireLease(a, 'partition:w', { prefix, ttlMs: 300 });
    // As if `a` had been paused past the TTL: the key expired and `b` took it.
    await a.del(leaseKey(prefix, 'partition:w'));
    const fresh = await tryAcquireLease(b, 'partition:w', { prefix, ttlMs: 300 });
    expect(fresh).toBeDefined();
    await new Promise((r) => setTimeout(r, 250));
    expect(stale?.signal.aborted).toBe(true);
    expect(stale?.signal.reason).toBeInstanceOf(LeaseLostError);
    await stale?.release();
    expect(await a.exists(leaseKey(prefix, 'partition:w'))).toBe(1);
    await fresh?.release();
  });
});
