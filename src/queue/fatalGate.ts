/**
 * Remembers a failure no retry can cure (a rejected API key, a corrupt database) so that it is logged once
 * with its fix, and so that the scheduler's next ticks fail at once instead of sending the same doomed
 * request every few seconds. After `probeAfterMs` one task is let through again: if the cause went away
 * (a key re-enabled upstream), the worker recovers on its own.
 */
import type { Logger } from '../log.ts';

export interface FatalGateOptions {
  /** How long the gate stays shut before one task may probe upstream again, ms. @default 300000 */
  probeAfterMs?: number;
}

export class FatalGate {
  private blocked: { message: string; until: number } | undefined;
  private readonly logged = new Set<string>();
  private readonly probeAfterMs: number;

  constructor(
    private readonly logger: Logger,
    opts: FatalGateOptions = {},
  ) {
    this.probeAfterMs = opts.probeAfterMs ?? 300_000;
  }

  /** The message to fail with while the gate is shut; undefined when the task may run. */
  check(now = Date.now()): string | undefined {
    if (!this.blocked) return undefined;
    if (now >= this.blocked.until) {
      // Let one task probe; further ones stay blocked until it reports back.
      this.blocked.until = now + this.probeAfterMs;
      return undefined;
    }
    return this.blocked.message;
  }

  /**
   * Report a fatal failure: logged at error the first time this message is seen, at debug after that.
   * `global` failures (key, database) also shut the gate for every partition.
   */
  report(message: string, ctx: Record<string, unknown>, global: boolean, now = Date.now()): void {
    if (global) this.blocked = { message, until: now + this.probeAfterMs };
    if (this.logged.has(message)) {
      this.logger.debug(ctx, message);
      return;
    }
    this.logged.add(message);
    this.logger.error(ctx, message);
  }

  /** A task succeeded: whatever blocked the worker is gone. */
  recovered(): void {
    if (!this.blocked) return;
    this.logger.info({ previous: this.blocked.message }, 'upstream accepted requests again; sync resumed');
    this.blocked = undefined;
    this.logged.clear();
  }
}
