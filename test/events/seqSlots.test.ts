import { describe, expect, it } from 'vitest';
import { SeqSlots } from '../../src/events/seqSlots.ts';

describe('SeqSlots', () => {
  it('hands a freed slot to the waiter with the lowest seq, whatever the arrival order', async () => {
    const slots = new SeqSlots(1);
    const signal = new AbortController().signal;
    await slots.acquire(1, signal);
    const order: number[] = [];
    const waits = [7, 3, 5].map((seq) => slots.acquire(seq, signal).then(() => order.push(seq)));
    for (let i = 0; i < 3; i++) {
      slots.release();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(waits);
    expect(order).toEqual([3, 5, 7]);
  });

  it('an aborted waiter leaves the queue and rejects; the slot goes to the next one', async () => {
    const slots = new SeqSlots(1);
    const keep = new AbortController();
    const drop = new AbortController();
    await slots.acquire(1, keep.signal);
    const dropped = slots.acquire(2, drop.signal);
    const kept = slots.acquire(3, keep.signal);
    drop.abort(new Error('stopped'));
    await expect(dropped).rejects.toThrow('stopped');
    slots.release();
    await expect(kept).resolves.toBeUndefined();
    expect(() => new SeqSlots(0)).toThrow(/>= 1/);
  });
});
