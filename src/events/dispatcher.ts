/**
 * The outbox dispatcher. Every sink has its own lane: it reads the events after the sink's cursor (in seq
 * order, `batchSize` at a time), keeps those the filter routes to it, hands them to the sink, and only then
 * advances the sink's cursor in `event_cursors`. Delivery is therefore at least once: a crash between the
 * page's commit and the acknowledgement re-delivers on restart, and consumers dedupe on `eventId`.
 *
 * A failing sink blocks only its own lane, which retries with capped exponential backoff while the other
 * lanes go on. Lanes wake on `notify()` (the sync calls it after each committed page) and on a short poll
 * that catches writes from other processes. The cursor is re-read before each batch and advanced by
 * compare-and-set, so `events replay` can rewind a sink while the dispatcher runs.
 *
 * A sink that throws `SinkDisabledError` (a webhook answered 410 Gone) is marked disabled in
 * `event_cursors`, logged once, and skipped until `events enable`; its cursor stays at the last event it
 * took, so nothing is lost meanwhile. A drain does not wait for a disabled sink.
 */

import { backoffMs } from '../backoff.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { MirrorStore } from '../mirror/store.ts';
import type { SinkFilter } from './rules.ts';
import { type EventSink, SinkDisabledError } from './types.ts';

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

/** The longest delay `setTimeout` keeps; a longer one fires after 1 ms (with a TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DrainTimeoutError extends Error {
  override name = 'DrainTimeoutError';
}

interface Lane {
  sink: EventSink;
  cursor: number;
  failures: number;
  lastError?: string;
  disabled: boolean;
  /** Unix ms, as last read from (or written to) the sink's cursor row. */
  disabledAt?: number;
  retryTimer?: NodeJS.Timeout;
  running: Promise<void> | null;
  again: boolean;
}

export class Dispatcher {
  readonly #mirror: MirrorStore;
  /** The highest outbox seq this dispatcher has read: `status()` reports lag against it without a read. */
  #seenMax = 0;
  readonly #lanes: Lane[];
  readonly #filter: SinkFilter;
  readonly #logger: Logger;
  readonly #pollMs: number;
  readonly #batchSize: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #newSinkStart: 'beginning' | 'end';
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
    this.#lanes = opts.sinks.map((sink) => ({
      sink,
      cursor: 0,
      failures: 0,
      disabled: false,
      running: null,
      again: false,
    }));
    this.#filter = opts.filter ?? (() => true);
    this.#logger = (opts.logger ?? silentLogger).child({ component: 'events' });
    this.#pollMs = opts.pollMs ?? 500;
    this.#batchSize = opts.batchSize ?? 500;
    this.#retryMinMs = opts.retryMinMs ?? 1000;
    this.#retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.#newSinkStart = opts.newSinkStart ?? 'beginning';
    this.#closeSinks = opts.closeSinks ?? true;
    this.#stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
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
    for (const lane of this.#lanes) this.#kick(lane);
  }

  /**
   * Deliver everything up to the outbox's current max seq to every sink (works with or without `start()`).
   * A failing sink is retried with its backoff until it catches up or `timeoutMs` passes.
   */
  async drain(opts: DrainOptions = {}): Promise<void> {
    if (this.#stopped) throw new Error('this dispatcher was stopped; create a new one');
    const target = await this.#mirror.outbox.maxSeq();
    this.#seen(target);
    this.#drains++;
    try {
      for (const lane of this.#lanes) this.#kick(lane);
      await this.#waitFor(
        () => this.#lanes.every((l) => l.disabled || l.cursor >= target),
        opts.timeoutMs,
        target,
      );
    } finally {
      this.#drains--;
      if (!this.#active()) for (const lane of this.#lanes) this.#clearRetry(lane);
    }
  }

  /** Stop delivering: end retry waits, wait (up to `stopTimeoutMs`) for in-flight batches, close the sinks. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#poll);
    for (const lane of this.#lanes) this.#clearRetry(lane);
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
    const max = this.#seenMax;
    return this.#lanes.map((l) => ({
      sink: l.sink.name,
      cursor: l.cursor,
      lag: Math.max(0, max - l.cursor),
      failures: l.failures,
      ...(l.lastError !== undefined ? { lastError: l.lastError } : {}),
      ...(l.disabledAt !== undefined ? { disabledAt: l.disabledAt } : {}),
    }));
  }

  #seen(seq: number): void {
    if (seq > this.#seenMax) this.#seenMax = seq;
  }

  #active(): boolean {
    return !this.#stopped && (this.#started || this.#drains > 0);
  }

  #kick(lane: Lane): void {
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

  async #run(lane: Lane): Promise<void> {
    do {
      lane.again = false;
      while (!this.#stopped && (await this.#step(lane))) {}
    } while (lane.again && !this.#stopped && !lane.retryTimer);
  }

  /** One batch for one lane. True when there may be more to deliver right away. */
  async #step(lane: Lane): Promise<boolean> {
    const { sink } = lane;
    let cursor = lane.cursor;
    let acked = cursor;
    try {
      // Inside the try: a database that cannot be read or written (read-only, locked) is a lane failure
      // to retry with backoff, never an exception that escapes the dispatcher.
      const state = await this.#readCursor(lane);
      if (state.disabled) return false;
      cursor = acked = state.cursor;
      const batch = await this.#mirror.outbox.after(cursor, this.#batchSize);
      const last = batch.at(-1);
      if (!last) return false;
      this.#seen(last.seq);
      const selected = batch.filter((e) => this.#filter(sink, e));
      if (selected.length > 0) {
        await sink.deliver(selected, {
          signal: this.#abort.signal,
          generation: state.generation,
          ack: (seq) => {
            if (seq > acked) acked = seq;
          },
        });
      }
      await this.#advance(lane, cursor, last.seq);
      if (lane.failures > 0) this.#logger.info({ sink: sink.name, seq: last.seq }, 'event sink recovered');
      lane.failures = 0;
      delete lane.lastError;
      return batch.length === this.#batchSize;
    } catch (err) {
      if (acked > cursor) await this.#tryAdvance(lane, cursor, acked);
      if (err instanceof SinkDisabledError) {
        lane.disabled = true;
        lane.lastError = err.message;
        lane.disabledAt ??= Date.now();
        if (await this.#tryDisable(sink.name, err.message)) {
          this.#logger.error(
            { sink: sink.name, afterSeq: acked, reason: err.message },
            `event sink "${sink.name}" disabled: ${err.message}. Nothing more is sent to it; its cursor stays at seq ${acked}. Fix the receiver, then \`retab-mirror events enable --sink ${sink.name}\``,
          );
        }
        this.#wake();
        return false;
      }
      if (this.#abort.signal.aborted) return false;
      lane.failures++;
      lane.lastError = (err as Error)?.message ?? String(err);
      const delay = backoffMs(lane.failures, {
        minMs: this.#retryMinMs,
        maxMs: this.#retryMaxMs,
        below: 0.2,
        above: 0.2,
      });
      this.#logger.warn(
        { err, sink: sink.name, afterSeq: acked, failures: lane.failures, retryInMs: delay },
        `event sink "${sink.name}" failed; retrying in ${delay} ms (other sinks continue)`,
      );
      lane.retryTimer = setTimeout(() => {
        lane.retryTimer = undefined;
        this.#kick(lane);
      }, delay);
      lane.retryTimer.unref();
      return false;
    }
  }

  async #readCursor(lane: Lane): Promise<{ cursor: number; generation: number; disabled: boolean }> {
    const cursors = this.#mirror.cursors;
    let row = await cursors.get(lane.sink.name);
    if (row === undefined) {
      await cursors.set(
        lane.sink.name,
        this.#newSinkStart === 'end' ? await this.#mirror.outbox.maxSeq() : 0,
      );
      row = await cursors.get(lane.sink.name);
    }
    const cursor = row?.seq ?? 0;
    lane.cursor = cursor;
    lane.disabled = row?.disabledAt != null;
    if (row?.disabledAt != null) lane.disabledAt = row.disabledAt;
    else delete lane.disabledAt;
    return { cursor, generation: row?.generation ?? 0, disabled: lane.disabled };
  }

  /** `#advance` on a failure path: a database error there is logged, and the lane retries later anyway. */
  async #tryAdvance(lane: Lane, expected: number, seq: number): Promise<void> {
    try {
      await this.#advance(lane, expected, seq);
    } catch (err) {
      this.#logger.warn(
        { err, sink: lane.sink.name, seq },
        'could not store the cursor; it is re-sent later',
      );
    }
  }

  async #advance(lane: Lane, expected: number, seq: number): Promise<void> {
    if (await this.#mirror.cursors.advance(lane.sink.name, expected, seq)) lane.cursor = seq;
    else {
      // Someone rewound the cursor meanwhile (`events replay`): theirs wins.
      lane.cursor = (await this.#mirror.cursors.get(lane.sink.name))?.seq ?? 0;
      this.#logger.info({ sink: lane.sink.name, cursor: lane.cursor }, 'cursor moved externally (replay)');
    }
    this.#wake();
  }

  async #tryDisable(sink: string, reason: string): Promise<boolean> {
    try {
      return await this.#mirror.cursors.disable(sink, reason);
    } catch (err) {
      this.#logger.warn({ err, sink }, 'could not store that the sink is disabled');
      return true;
    }
  }

  #clearRetry(lane: Lane): void {
    clearTimeout(lane.retryTimer);
    lane.retryTimer = undefined;
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
