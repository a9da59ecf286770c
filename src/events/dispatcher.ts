/**
 * The outbox dispatcher. Every sink has its own lane (sinkLane.ts): it takes the events after the sink's
 * cursor (in seq order, `batchSize` at a time), keeps those the filter routes to it, hands them to the sink,
 * and only then advances the sink's cursor in `event_cursors`. Delivery is therefore at least once: a crash
 * between the page's commit and the acknowledgement re-delivers on restart, and consumers dedupe on
 * `eventId`. The lanes share what they read: each batch is read and parsed once for all of them
 * (outboxBatches.ts).
 *
 * A failing sink blocks only its own lane, which retries with capped exponential backoff while the other
 * lanes go on. Lanes wake on `notify()` (the sync calls it after each committed page) and on a short poll
 * that catches writes from other processes. The cursor is re-read before each batch and advanced by
 * compare-and-set, so `events replay` can rewind a sink while the dispatcher runs.
 *
 * A sink that throws `SinkDisabledError` (a webhook answered 410 Gone) is marked disabled in
 * `event_cursors`, logged once, and skipped until `events enable`; its cursor stays at the last event it
 * took, so nothing is lost meanwhile. A drain does not wait for a disabled sink.
 *
 * A fleet of workers runs one dispatcher each; `leases` makes each sink's lane deliver only in the process
 * holding its lease `lane:<sink name>` (sinkLane.ts), so every event reaches each sink once in normal
 * operation, from whichever process, and a dead holder's lanes are taken over from the stored cursors.
 */

import type { HeldLease } from '../fleet/index.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';
import { OutboxBatches } from './outboxBatches.ts';
import type { SinkFilter } from './rules.ts';
import { SinkLane } from './sinkLane.ts';
import type { EventSink } from './types.ts';

export interface DispatcherOptions {
  mirror: MirrorStore;
  sinks: readonly EventSink[];
  /** Which events a sink receives (skipped ones still advance its cursor). @default every event */
  filter?: SinkFilter;
  logger?: Logger;
  /** Fallback poll interval, ms: catches writes by other processes and a missed `notify()`. @default 500 */
  pollMs?: number;
  /** Events read and handed to a sink at once. @default 500 */
  batchSize?: number;
  /** Delay before the first retry of a failing sink, ms; doubles per failure. @default 1000 */
  retryMinMs?: number;
  /** Longest delay between two retries of a failing sink, ms. @default 60000 */
  retryMaxMs?: number;
  /**
   * Where a sink without a cursor starts: `beginning` delivers the whole outbox, `end` only what comes
   * next. (To skip history for one sink later: `events replay --from-seq <max + 1> --sink NAME`.)
   * @default 'beginning'
   */
  newSinkStart?: 'beginning' | 'end';
  /** `stop()` also closes the sinks (their queues, connections). @default true */
  closeSinks?: boolean;
  /**
   * How long `stop()` waits for in-flight batches (e.g. a queue write stuck on an unreachable Redis) before
   * giving up on them; they stay unacknowledged and are re-delivered on the next start. @default 10000
   */
  stopTimeoutMs?: number;
  /**
   * Fleet mode: take the lease `name` (`lane:<sink name>`) for this process, or resolve undefined when
   * another holds it (e.g. `tryAcquireLease` on the fleet's Redis, src/fleet). A lane delivers only while it
   * holds its lease; `stop()` releases them. @default none: every lane delivers (one process)
   */
  leases?: (name: string) => Promise<HeldLease | undefined>;
  /** How often a lane without its lease tries to take it, ms (a third of the lease TTL). @default 10000 */
  leaseRetryMs?: number;
}

export interface SinkStatus {
  sink: string;
  /** Last acknowledged seq. */
  cursor: number;
  /** Events after the cursor (not all of them may be routed to this sink). */
  lag: number;
  /** Consecutive failed deliveries (0 = healthy). */
  failures: number;
  lastError?: string;
  /** Unix ms the sink was disabled (its receiver answered 410 Gone); absent while enabled. */
  disabledAt?: number;
}

export interface DrainOptions {
  /** Give up (reject) after this long, ms; beyond a timer's range (2^31 - 1 ms, ~24.8 days): no limit. @default no limit */
  timeoutMs?: number;
}

const sleepUnref = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The longest delay `setTimeout` keeps; a longer one fires after 1 ms (with a TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DrainTimeoutError extends Error {
  override name = 'DrainTimeoutError';
}

export class Dispatcher {
  readonly #mirror: MirrorStore;
  readonly #lanes: SinkLane[];
  readonly #batches: OutboxBatches;
  readonly #logger: Logger;
  readonly #pollMs: number;
  readonly #closeSinks: boolean;
  readonly #stopTimeoutMs: number;
  readonly #abort = new AbortController();
  readonly #waiters = new Set<() => void>();
  #started = false;
  #stopped = false;
  #drains = 0;
  #poll?: NodeJS.Timeout;

  constructor(opts: DispatcherOptions) {
    const names = new Set<string>();
    for (const sink of opts.sinks) {
      if (names.has(sink.name))
        throw new Error(`two event sinks are named "${sink.name}"; names must be unique`);
      names.add(sink.name);
    }
    this.#mirror = opts.mirror;
    this.#logger = (opts.logger ?? silentLogger).child({ component: 'events' });
    this.#pollMs = opts.pollMs ?? 500;
    this.#closeSinks = opts.closeSinks ?? true;
    this.#stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
    // Two batches a lane: a lane that finished its batch finds the next one read by a quicker lane.
    this.#batches = new OutboxBatches(opts.mirror, opts.batchSize ?? 500, 2 * opts.sinks.length);
    const ctx = {
      mirror: opts.mirror,
      batches: this.#batches,
      filter: opts.filter ?? (() => true),
      logger: this.#logger,
      signal: this.#abort.signal,
      retryMinMs: opts.retryMinMs ?? 1000,
      retryMaxMs: opts.retryMaxMs ?? 60_000,
      newSinkStart: opts.newSinkStart ?? 'beginning',
      changed: () => this.#wake(),
      retryDue: (lane: SinkLane) => this.#kick(lane),
      leases: opts.leases,
      leaseRetryMs: opts.leaseRetryMs ?? 10_000,
    };
    this.#lanes = opts.sinks.map((sink) => new SinkLane(sink, ctx));
  }

  /** Outbox reads so far, all lanes together (each batch is read once for the lanes at its cursor). */
  get outboxReads(): number {
    return this.#batches.reads;
  }

  get sinks(): readonly EventSink[] {
    return this.#lanes.map((l) => l.sink);
  }

  /** Start delivering in the background (poll + `notify()`). */
  start(): void {
    if (this.#stopped) throw new Error('this dispatcher was stopped; create a new one');
    if (this.#started) return;
    this.#started = true;
    this.#poll = setInterval(() => this.notify(), this.#pollMs);
    this.#poll.unref();
    this.notify();
  }

  /** New events were committed: wake every lane that is not waiting out a retry delay. */
  notify(): void {
    if (!this.#active()) return;
    this.#batches.refresh();
    for (const lane of this.#lanes) this.#kick(lane);
  }

  /**
   * Deliver everything up to the outbox's current max seq to every sink (works with or without `start()`).
   * A failing sink is retried with its backoff until it catches up or `timeoutMs` passes.
   */
  async drain(opts: DrainOptions = {}): Promise<void> {
    if (this.#stopped) throw new Error('this dispatcher was stopped; create a new one');
    const target = await this.#mirror.outbox.maxSeq();
    this.#batches.seen(target);
    this.#drains++;
    try {
      this.#batches.refresh();
      for (const lane of this.#lanes) this.#kick(lane);
      await this.#waitFor(
        () => this.#lanes.every((l) => l.disabled || l.cursor >= target),
        opts.timeoutMs,
        target,
      );
    } finally {
      this.#drains--;
      if (!this.#active()) for (const lane of this.#lanes) lane.clearRetry();
    }
  }

  /** Stop delivering: end retry waits, wait (up to `stopTimeoutMs`) for in-flight batches, close the sinks. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#poll);
    for (const lane of this.#lanes) lane.clearRetry();
    this.#abort.abort(new Error('dispatcher stopped'));
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      Promise.all(this.#lanes.map((l) => l.running)).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!settled) {
      const stuck = this.#lanes.filter((l) => l.running).map((l) => l.sink.name);
      this.#logger.warn(
        { sinks: stuck },
        `stopped without waiting longer for in-flight deliveries (${stuck.join(', ')}); they will be re-delivered`,
      );
    }
    // Hand the lanes over now rather than after their TTL (an in-flight batch left behind is re-sent).
    // Bounded: a release on a Redis that hangs must not hold the stop (the lease then expires by itself).
    await Promise.race([Promise.all(this.#lanes.map((l) => l.releaseLease())), sleepUnref(1000)]);
    this.#wake();
    if (this.#closeSinks) {
      for (const lane of this.#lanes) {
        await lane.sink
          .close?.()
          .catch((err: unknown) => this.#logger.warn({ err, sink: lane.sink.name }, 'close failed'));
      }
    }
  }

  /**
   * Each lane as of its last read of the store (no read here, so it stays synchronous over an asynchronous
   * store): its cursor, and its lag behind the highest seq this dispatcher has seen.
   */
  status(): SinkStatus[] {
    const max = this.#batches.maxSeen;
    return this.#lanes.map((l) => ({
      sink: l.sink.name,
      cursor: l.cursor,
      lag: Math.max(0, max - l.cursor),
      failures: l.failures,
      ...(l.lastError !== undefined ? { lastError: l.lastError } : {}),
      ...(l.disabledAt !== undefined ? { disabledAt: l.disabledAt } : {}),
    }));
  }

  #active(): boolean {
    return !this.#stopped && (this.#started || this.#drains > 0);
  }

  #kick(lane: SinkLane): void {
    if (!this.#active() || lane.retryTimer) return;
    if (lane.running) {
      lane.again = true;
      return;
    }
    lane.running = this.#run(lane).finally(() => {
      lane.running = null;
      // A kick that landed after the loop's last check but before this callback must not be lost.
      if (lane.again) this.#kick(lane);
      this.#wake();
    });
  }

  async #run(lane: SinkLane): Promise<void> {
    do {
      lane.again = false;
      while (!this.#stopped && (await lane.step())) {}
    } while (lane.again && !this.#stopped && !lane.retryTimer);
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #waitFor(done: () => boolean, timeoutMs: number | undefined, target: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: Error) => {
        this.#waiters.delete(check);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (done()) finish();
        else if (this.#stopped) finish(new Error('dispatcher stopped before the drain finished'));
      };
      if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
        timer = setTimeout(() => {
          const behind = this.#lanes
            .filter((l) => l.cursor < target)
            .map((l) => `${l.sink.name} at seq ${l.cursor}${l.lastError ? ` (${l.lastError})` : ''}`);
          finish(
            new DrainTimeoutError(
              `drain to seq ${target} timed out after ${timeoutMs} ms: ${behind.join('; ')}`,
            ),
          );
        }, timeoutMs);
      }
      this.#waiters.add(check);
      check();
    });
  }
}
