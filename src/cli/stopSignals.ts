/**
 * One graceful stop per Ctrl-C, whichever way the program was started.
 *
 * A Ctrl-C in a terminal sends SIGINT to the whole foreground process group: under `npm run …` both npm and
 * this process receive it, and npm relays it once more to its child. Those copies arrive within
 * milliseconds of each other and mean one thing, so signals within `relayWindowMs` of the first are one
 * request. A signal after that window is the user insisting: `onForce` runs (exit without waiting).
 */

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface StopSignalOptions {
  /** Called once, on the first SIGINT or SIGTERM. */
  onStop: (signal: StopSignal) => void;
  /** Called on a further signal after `relayWindowMs`. @default nothing (further signals are ignored) */
  onForce?: (signal: StopSignal) => void;
  /** Copies of one Ctrl-C relayed by wrappers (npm, sh) arrive within this window, ms. @default 1000 */
  relayWindowMs?: number;
  now?: () => number;
}

/** Listen for SIGINT and SIGTERM; returns the function that removes the listeners. */
export function onStopSignals(opts: StopSignalOptions): () => void {
  const now = opts.now ?? Date.now;
  const windowMs = opts.relayWindowMs ?? 1000;
  let firstAt: number | null = null;
  const handler = (signal: StopSignal) => {
    if (firstAt === null) {
      firstAt = now();
      opts.onStop(signal);
    } else if (now() - firstAt > windowMs) {
      opts.onForce?.(signal);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Resolves on the first stop signal (and keeps listening, so relayed copies do not kill the process). */
export function untilStopSignal(onForce?: (signal: StopSignal) => void): {
  stopped: Promise<StopSignal>;
  dispose: () => void;
} {
  let dispose = () => {};
  const stopped = new Promise<StopSignal>((resolve) => {
    dispose = onStopSignals({ onStop: resolve, ...(onForce ? { onForce } : {}) });
  });
  return { stopped, dispose };
}
