/** A min-heap of timed events, ordered by time then by insertion, so equal times replay deterministically. */

export interface TimedEvent<T> {
  at: number;
  seq: number;
  value: T;
}

export class EventQueue<T> {
  private readonly heap: TimedEvent<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, value: T): void {
    const heap = this.heap;
    heap.push({ at, seq: this.seq++, value });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as TimedEvent<T>, heap[parent] as TimedEvent<T>)) break;
      [heap[i], heap[parent]] = [heap[parent] as TimedEvent<T>, heap[i] as TimedEvent<T>];
      i = parent;
    }
  }

  peek(): TimedEvent<T> | undefined {
    return this.heap[0];
  }

  pop(): TimedEvent<T> | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l] as TimedEvent<T>, heap[m] as TimedEvent<T>)) m = l;
      if (r < heap.length && before(heap[r] as TimedEvent<T>, heap[m] as TimedEvent<T>)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m] as TimedEvent<T>, heap[i] as TimedEvent<T>];
      i = m;
    }
    return top;
  }
}

function before<T>(a: TimedEvent<T>, b: TimedEvent<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
