/**
 * The cursor writes of a sink lane never move a cursor backwards, on both stores (MirrorStore.cursors): the
 * first cursor is created only if absent, and an advance is a forward-only compare-and-set. This is what makes
 * a late write of a lane that lost its lease (events/sinkLane.ts) harmless.
 */
import { describe, expect, it } from 'vitest';
import { appendTestEvents } from '../events/helpers.ts';
import { forEachStore } from '../stores.ts';

forEachStore((store) =>
  describe('sink cursors move forward only', () => {
    it("a lane starting late does not reset another's cursor; a stale compare-and-set is rejected", async () => {
      const mirror = await store.open();
      await appendTestEvents(mirror, 30);
      // Two lanes find no cursor; the first creates it and delivers up to 20.
      await mirror.cursors.set('ops', 0);
      expect(await mirror.cursors.advance('ops', 0, 20)).toBe(true);
      // The second (paused since its read) creates it "again": kept at 20.
      await mirror.cursors.set('ops', 0);
      expect((await mirror.cursors.get('ops'))?.seq).toBe(20);
      // ...and its advance from the cursor it read (0) is rejected.
      expect(await mirror.cursors.advance('ops', 0, 10)).toBe(false);
      expect((await mirror.cursors.get('ops'))?.seq).toBe(20);
    });

    it('an advance to a seq at or below the expected one is refused (forward only)', async () => {
      const mirror = await store.open();
      await appendTestEvents(mirror, 30);
      await mirror.cursors.set('ops', 0);
      expect(await mirror.cursors.advance('ops', 0, 25)).toBe(true);
      expect(await mirror.cursors.advance('ops', 25, 10)).toBe(false);
      expect(await mirror.cursors.advance('ops', 25, 25)).toBe(false);
      expect((await mirror.cursors.get('ops'))?.seq).toBe(25);
      // An operator's replay still rewinds it: that is not a lane write.
      expect(await mirror.cursors.replayFrom('ops', 5)).toBe(4);
      expect((await mirror.cursors.get('ops'))?.seq).toBe(4);
    });
  }),
);
