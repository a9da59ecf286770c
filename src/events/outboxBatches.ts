/**
 * The outbox as the dispatcher's lanes read it: the next `size` events after a cursor, read from the
 * database and parsed once for every lane at that cursor. Lanes mostly move in step — each advances its
 * cursor to the last seq of the batch it took, whether the events were routed to it or not — so one read
 * serves them all; a lane that fell behind finds the last `keep` batches kept, or reads its own. The events
 * are frozen, since several sinks (and the emitter's listeners) now hold the same objects.
 *
 * A full batch never changes: SQLite serializes writers, so once seq N is visible no lower seq can appear
 * later (a store where commits can land out of seq order must not hand out seqs past its safe horizon). A
 * short batch, the end of the outbox, grows as events are written: `refresh()`, called whenever new events
 * may have been committed (`notify()`, the poll, a drain), forgets those, so a lane never waits on a stale
 * end. Batch boundaries, and so the ordering rules built on them, are the same as with a read per lane.
 */
import type { MirrorStore } from '../mirror/index.ts';
import type { MirrorEvent } from './eventModel.ts';

interface Batch {
  events: Promise<readonly MirrorEvent[]>;
  /** Known to hold `size` events (then it is final); false while the read is in flight. */
  full: boolean;
}

export class OutboxBatches {
  /** Events per batch. */
  readonly size: number;
  readonly #mirror: MirrorStore;
  #maxSeen = 0;
  readonly #keep: number;
  /** afterSeq → batch, least recently used first. */
  readonly #cache = new Map<number, Batch>();
  #reads = 0;

  /** @param keep batches kept for lanes that come later (at least 1) */
  constructor(mirror: MirrorStore, size: number, keep: number) {
    this.#mirror = mirror;
    this.size = size;
    this.#keep = Math.max(1, keep);
  }

  /** Outbox reads made so far (each one query of up to `size` rows). */
  get reads(): number {
    return this.#reads;
  }

  /** Up to `size` events with `seq > afterSeq`, in seq order; rejects when the database cannot be read. */
  after(afterSeq: number): Promise<readonly MirrorEvent[]> {
    const hit = this.#cache.get(afterSeq);
    if (hit) {
      this.#cache.delete(afterSeq);
      this.#cache.set(afterSeq, hit);
      return hit.events;
    }
    const batch: Batch = { events: this.#read(afterSeq), full: false };
    batch.events.then(
      (events) => {
        batch.full = events.length === this.size;
      },
      () => {
        // A failed read is not kept: the lane's retry reads again.
        if (this.#cache.get(afterSeq) === batch) this.#cache.delete(afterSeq);
      },
    );
    this.#cache.set(afterSeq, batch);
    for (const seq of this.#cache.keys()) {
      if (this.#cache.size <= this.#keep) break;
      this.#cache.delete(seq);
    }
    return batch.events;
  }

  /** The highest outbox seq read so far (or reported by `seen`): lag is measured against it without a read. */
  get maxSeen(): number {
    return this.#maxSeen;
  }

  seen(seq: number): void {
    if (seq > this.#maxSeen) this.#maxSeen = seq;
  }

  /** New events may have been committed: forget every batch that may end short of them. */
  refresh(): void {
    for (const [seq, batch] of this.#cache) if (!batch.full) this.#cache.delete(seq);
  }

  async #read(afterSeq: number): Promise<readonly MirrorEvent[]> {
    this.#reads++;
    const events = await this.#mirror.outbox.after(afterSeq, this.size);
    const last = events.at(-1);
    if (last) this.seen(last.seq);
    for (const event of events) deepFreeze(event);
    return events;
  }
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}
