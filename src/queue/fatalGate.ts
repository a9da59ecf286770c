/**
 * Keeps a failure no retry can cure (a rejected API key, a corrupt database) from being hit, and logged, by
 * every task. Until upstream has answered once, tasks reach it one at a time (a probe): with a bad key the
 * first task fails, the failure is logged once with its fix, and the tasks waiting behind it fail at once
 * without a request. Once shut, the gate fails every task immediately; after `probeAfterMs` one task probes
 * again, so a key re-enabled upstream brings the worker back on its own.
 */
import type { Logger } from '../log.ts';

export interface FatalGateOptions {
  /** How long the gate stays shut before one task may probe upstream again, ms. @default 300000 */
  probeAfterMs?: number;
}

/** A promise with its resolver (Promise.withResolvers needs ES2024 typings). */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export type GateTicket = { blocked: string } | { aborted: true } | { done: () => void };

export class FatalGate {
  private state: 'unverified' | 'open' | 'blocked' = 'unverified';
  private blockedMessage = '';
  private blockedUntil = 0;
  private probing = false;
  /** Resolved (and replaced) whenever the gate may have changed: a probe ended, upstream answered, a failure. */
  private changed = signal();
  private readonly logged = new Set<string>();
  private readonly probeAfterMs: number;

  constructor(
    private readonly logger: Logger,
    opts: FatalGateOptions = {},
  ) {
    this.probeAfterMs = opts.probeAfterMs ?? 300_000;
  }

  /**
   * Ask to run a task. `{ done }`: go ahead, and call `done()` when the task ends; `{ blocked }`: fail with
   * that message; `{ aborted }`: the signal fired while waiting behind a probe.
   */
  async enter(signal: AbortSignal, now: () => number = Date.now): Promise<GateTicket> {
    for (;;) {
      if (signal.aborted) return { aborted: true };
      if (this.state === 'open') return { done: () => undefined };
      if (this.state === 'blocked' && now() < this.blockedUntil) return { blocked: this.blockedMessage };
      if (!this.probing) {
        this.probing = true;
        return {
          done: () => {
            this.probing = false;
            this.notify();
          },
        };
      }
      const changed = this.changed.promise;
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        changed.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  private notify(): void {
    this.changed.resolve();
    this.changed = signal();
  }

  /** Upstream answered and a page was committed: the key and the database work. */
  verified(): void {
    if (this.state === 'open') return;
    if (this.state === 'blocked') {
      this.logger.info({ previous: this.blockedMessage }, 'upstream accepted requests again; sync resumed');
      this.logged.clear();
    }
    this.state = 'open';
    this.notify();
  }

  /**
   * Report a fatal failure: logged at error the first time this message is seen, at debug after that.
   * A `global` one (key, database) shuts the gate for every partition.
   */
  report(message: string, ctx: Record<string, unknown>, global: boolean, now = Date.now()): void {
    if (global) {
      this.state = 'blocked';
      this.blockedMessage = message;
      this.blockedUntil = now + this.probeAfterMs;
      this.notify();
    }
    if (this.logged.has(message)) {
      this.logger.debug(ctx, message);
      return;
    }
    this.logged.add(message);
    this.logger.error(ctx, message);
  }
}
