/**
 * One sink's lane in the dispatcher: its cursor, its failures, and `step()`, which delivers the next batch
 * after the cursor. The batch comes from the lanes' shared reader (outboxBatches.ts); the lane keeps the
 * events its filter routes to the sink, hands them over, and only then advances its cursor in
 * `event_cursors` by compare-and-set (an `events replay` meanwhile wins). Delivery is therefore at least
 * once: a crash between the hand-over and the acknowledgement re-delivers on restart.
 *
 * A failure (the sink's, or a database that cannot be read or written) keeps what the sink acknowledged,
 * then retries after a capped exponential backoff (src/backoff.ts) while the other lanes go on. A
 * `SinkDisabledError` (a webhook answered 410 Gone) marks the sink disabled instead, logged once.
 * Every storage call is made from an async method, ready for a store whose calls are asynchronous.
 *
 * In a fleet (`LaneContext.leases` given) a lane delivers only while it holds the lease `lane:<sink name>`
 * (src/fleet/lease.ts), so one lane per sink delivers for the whole fleet. A lane without it reads the
 * stored cursor (for `drain` and `status`) and tries to take the lease again every `leaseRetryMs`; a holder
 * that dies stops renewing, its lease expires after its TTL, and the next lane to try takes over from the
 * stored cursor. A holder that learns it lost its lease (`lease.signal`: a pause past the TTL, Redis gone)
 * ends its in-flight delivery as a stop does (the sink's signal aborts) and then writes nothing more: no
 * cursor, no disabled mark. What it
 * cannot know (it was paused between its check and its write) the store makes harmless: a cursor write is a
 * forward-only compare-and-set (`MirrorStore.cursors.advance`), so a late write lands only if nobody moved
 * the cursor since the lane read it, and then only moves it forward over events that lane delivered.
 */
import { backoffMs } from '../backoff.ts';
import type { HeldLease } from '../fleet/index.ts';
import type { Logger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';
import { laneLeaseName, untilAborted } from './laneLease.ts';
import type { OutboxBatches } from './outboxBatches.ts';
import type { SinkFilter } from './rules.ts';
import { type EventSink, SinkDisabledError } from './types.ts';

/** What every lane of one dispatcher shares. */
export interface LaneContext {
  mirror: MirrorStore;
  batches: OutboxBatches;
  filter: SinkFilter;
  logger: Logger;
  /** Aborted when the dispatcher stops. */
  signal: AbortSignal;
  /** Retry delays of a failing sink, ms: the first, and the cap. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Where a sink without a cursor starts. */
  newSinkStart: 'beginning' | 'end';
  /** A lane's cursor or state changed (drains re-check). */
  changed(): void;
  /** A lane's retry delay is over: run it again. */
  retryDue(lane: SinkLane): void;
  /** Take the lease named `lane:<sink name>`, or undefined when another process holds it; absent: no leases. */
  leases?: ((name: string) => Promise<HeldLease | undefined>) | undefined;
  /** How often a lane without its lease tries to take it, ms. */
  leaseRetryMs: number;
}

export class SinkLane {
  /** Last acknowledged seq, as last read or written. */
  cursor = 0;
  /** Consecutive failed batches. */
  failures = 0;
  lastError?: string;
  disabled = false;
  /** Unix ms, as last read from (or written to) the sink's cursor row. */
  disabledAt: number | undefined;
  retryTimer?: NodeJS.Timeout;
  /** The lane's loop, while it runs. */
  running: Promise<void> | null = null;
  /** Woken while running: look again before stopping. */
  again = false;
  /** The lane's lease while held (fleet mode only). */
  lease: HeldLease | undefined;
  /** performance.now() before which a lane without its lease does not try to take it again. */
  #nextLeaseTry = 0;
  /** The last try to take the lease failed (Redis error): the next failure is not logged again. */
  #takeFailing = false;

  constructor(
    readonly sink: EventSink,
    readonly ctx: LaneContext,
  ) {}

  /** Deliver the next batch. True when there may be more to deliver right away. */
  async step(): Promise<boolean> {
    const { sink, ctx } = this;
    if (!(await this.#holdsLease())) {
      await this.#readCursor();
      return false;
    }
    let cursor = this.cursor;
    let acked = cursor;
    try {
      // Inside the try: a database that cannot be read or written (read-only, locked) is a lane failure
      // to retry with backoff, never an exception that escapes the dispatcher.
      const state = await this.#cursorState();
      if (state.disabled || !this.#mayWrite()) return false;
      cursor = acked = state.cursor;
      const batch = await ctx.batches.after(cursor);
      if (ctx.signal.aborted || !this.#mayWrite()) return false;
      const last = batch.at(-1);
      if (!last) return false;
      const selected = batch.filter((e) => ctx.filter(sink, e));
      if (selected.length > 0) {
        await sink.deliver(selected, {
          // A lost lease ends the batch like a stop: waits and the request in flight are cut short.
          signal: this.lease ? AbortSignal.any([ctx.signal, this.lease.signal]) : ctx.signal,
          generation: state.generation,
          ack: (seq) => {
            if (seq > acked) acked = seq;
          },
        });
      }
      if (!this.#mayWrite()) return false; // the new holder re-sends from the stored cursor
      await this.#advance(cursor, last.seq);
      if (this.failures > 0) ctx.logger.info({ sink: sink.name, seq: last.seq }, 'event sink recovered');
      this.failures = 0;
      delete this.lastError;
      return batch.length === ctx.batches.size;
    } catch (err) {
      if (!this.#mayWrite()) return false;
      if (acked > cursor) await this.#tryAdvance(cursor, acked);
      if (err instanceof SinkDisabledError) {
        await this.#disable(err, acked);
        return false;
      }
      if (ctx.signal.aborted) return false;
      this.#retryLater(err, acked);
      return false;
    }
  }

  /** Give the lease up (the dispatcher stops): another process takes the lane over at once. */
  async releaseLease(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    await lease?.release();
  }

  /**
   * Whether this lane may deliver: always without leases; in a fleet, while it holds `lane:<sink>` (taken
   * here, at most every `leaseRetryMs`). A Redis error counts as not holding it (retried at the next try).
   */
  async #holdsLease(): Promise<boolean> {
    const { ctx, sink } = this;
    if (!ctx.leases) return true;
    if (this.lease?.signal.aborted) this.#dropLostLease();
    if (this.lease) return true;
    const now = performance.now();
    if (now < this.#nextLeaseTry || ctx.signal.aborted) return false;
    this.#nextLeaseTry = now + ctx.leaseRetryMs;
    try {
      this.lease = await untilAborted(ctx.leases(laneLeaseName(sink.name)), ctx.signal);
    } catch (err) {
      // Once per outage (Redis itself reports each reconnect attempt).
      if (!this.#takeFailing)
        ctx.logger.warn(
          { err, sink: sink.name },
          `could not take the lease of sink "${sink.name}"; retrying`,
        );
      this.#takeFailing = true;
      return false;
    }
    this.#takeFailing = false;
    if (!this.lease) return false;
    if (ctx.signal.aborted) {
      await this.releaseLease();
      return false;
    }
    ctx.logger.info({ sink: sink.name }, `delivering to sink "${sink.name}" for the fleet (lease taken)`);
    // Wake the lane when the lease goes, so it stops at once rather than at its next batch.
    this.lease.signal.addEventListener('abort', () => ctx.retryDue(this), { once: true });
    return true;
  }

  /** Whether the lane may write its cursor: always without leases; in a fleet, while its lease holds. */
  #mayWrite(): boolean {
    return !this.ctx.leases || (this.lease !== undefined && !this.lease.signal.aborted);
  }

  /** Forget a lease that was lost (logged once); the lane tries to take it again after `leaseRetryMs`. */
  #dropLostLease(): void {
    const lease = this.lease;
    if (!lease) return;
    this.lease = undefined;
    this.#nextLeaseTry = performance.now() + this.ctx.leaseRetryMs;
    this.ctx.logger.warn(
      { sink: this.sink.name, reason: (lease.signal.reason as Error)?.message },
      `lost the lease of sink "${this.sink.name}": stopped delivering to it; another worker resumes from its stored cursor`,
    );
  }

  clearRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  #retryLater(err: unknown, acked: number): void {
    const { sink, ctx } = this;
    this.failures++;
    this.lastError = (err as Error)?.message ?? String(err);
    const delay = backoffMs(this.failures, {
      minMs: ctx.retryMinMs,
      maxMs: ctx.retryMaxMs,
      below: 0.2,
      above: 0.2,
    });
    ctx.logger.warn(
      { err, sink: sink.name, afterSeq: acked, failures: this.failures, retryInMs: delay },
      `event sink "${sink.name}" failed; retrying in ${delay} ms (other sinks continue)`,
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      ctx.retryDue(this);
    }, delay);
    this.retryTimer.unref();
  }

  async #disable(err: SinkDisabledError, acked: number): Promise<void> {
    const { sink, ctx } = this;
    this.disabled = true;
    this.disabledAt ??= Date.now();
    this.lastError = err.message;
    let first = true;
    try {
      first = await ctx.mirror.cursors.disable(sink.name, err.message);
    } catch (dbErr) {
      ctx.logger.warn({ err: dbErr, sink: sink.name }, 'could not store that the sink is disabled');
    }
    if (first) {
      ctx.logger.error(
        { sink: sink.name, afterSeq: acked, reason: err.message },
        `event sink "${sink.name}" disabled: ${err.message}. Nothing more is sent to it; its cursor stays at seq ${acked}. Fix the receiver, then \`retab-mirror events enable --sink ${sink.name}\``,
      );
    }
    ctx.changed();
  }

  /** Read-only view of the stored cursor, for a lane that does not deliver (another process holds it). */
  async #readCursor(): Promise<void> {
    try {
      const row = await this.ctx.mirror.cursors.get(this.sink.name);
      if (row === undefined) return;
      const moved = row.seq !== this.cursor || (row.disabledAt != null) !== this.disabled;
      this.cursor = row.seq;
      this.disabled = row.disabledAt != null;
      this.disabledAt = row.disabledAt ?? undefined;
      if (moved) this.ctx.changed();
    } catch {
      // Only `status` and `drain` read it here; the next poll reads again.
    }
  }

  /** The sink's row in `event_cursors` (created at `newSinkStart` the first time). */
  async #cursorState(): Promise<{ cursor: number; generation: number; disabled: boolean }> {
    const { mirror, newSinkStart } = this.ctx;
    let row = await mirror.cursors.get(this.sink.name);
    if (row === undefined) {
      const start = newSinkStart === 'end' ? await mirror.outbox.maxSeq() : 0;
      if (this.#mayWrite()) await mirror.cursors.set(this.sink.name, start);
      row = await mirror.cursors.get(this.sink.name);
    }
    this.cursor = row?.seq ?? 0;
    this.disabled = row?.disabledAt != null;
    this.disabledAt = row?.disabledAt ?? undefined;
    return { cursor: this.cursor, generation: row?.generation ?? 0, disabled: this.disabled };
  }

  /** `#advance` on a failure path: a database error there is logged, and the lane retries later anyway. */
  async #tryAdvance(expected: number, seq: number): Promise<void> {
    try {
      await this.#advance(expected, seq);
    } catch (err) {
      this.ctx.logger.warn(
        { err, sink: this.sink.name, seq },
        'could not store the cursor; it is re-sent later',
      );
    }
  }

  async #advance(expected: number, seq: number): Promise<void> {
    const { mirror, logger } = this.ctx;
    if (await mirror.cursors.advance(this.sink.name, expected, seq)) this.cursor = seq;
    else {
      // Someone rewound the cursor meanwhile (`events replay`): theirs wins.
      this.cursor = (await mirror.cursors.get(this.sink.name))?.seq ?? 0;
      logger.info({ sink: this.sink.name, cursor: this.cursor }, 'cursor moved externally (replay)');
    }
    this.ctx.changed();
  }
}
