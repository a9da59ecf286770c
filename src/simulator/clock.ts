/**
 * The simulated clock. `manual`: time moves only with `advance(ms)` (tests, benchmarks). `realtime`: it
 * follows the wall clock, ticking itself every `tickMs` so jobs visibly move, and catching up before each
 * request so answers are never a tick stale.
 */
import type { Lifecycle } from './lifecycle.ts';

export type ClockMode = 'manual' | 'realtime';

export interface SimClock {
  /** `realtime` until `freeze()`, `manual` after. */
  readonly mode: ClockMode;
  /** Simulated time, unix ms. */
  now(): number;
  /** Moves simulated time forward by `ms`, running every transition due meanwhile; returns the new time. */
  advance(ms: number): number;
  /** Stops realtime ticking for good: time then moves only with `advance(ms)` (the demo's last sync). */
  freeze(): void;
}

export class LifecycleClock implements SimClock {
  private timer: NodeJS.Timeout | undefined;
  private wallOrigin = 0;
  private simOrigin = 0;

  constructor(
    private readonly lifecycle: Lifecycle,
    private currentMode: ClockMode,
    private readonly tickMs = 250,
  ) {}

  get mode(): ClockMode {
    return this.currentMode;
  }

  now(): number {
    return this.lifecycle.now();
  }

  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance(ms) needs a finite ms >= 0, got ${ms}`);
    if (this.mode === 'realtime') this.simOrigin += ms;
    this.lifecycle.advanceTo(this.lifecycle.now() + ms);
    this.sync();
    return this.now();
  }

  /** In realtime mode, catches simulated time up with the wall clock. */
  sync(): void {
    if (this.mode !== 'realtime') return;
    this.lifecycle.advanceTo(this.simOrigin + (Date.now() - this.wallOrigin));
  }

  start(): void {
    if (this.mode !== 'realtime' || this.timer) return;
    this.wallOrigin = Date.now();
    this.simOrigin = this.lifecycle.now();
    this.timer = setInterval(() => this.sync(), this.tickMs);
    this.timer.unref();
  }

  freeze(): void {
    this.sync();
    this.stop();
    this.currentMode = 'manual';
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
