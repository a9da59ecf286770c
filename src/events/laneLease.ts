/**
 * The lease of a sink's lane in a fleet (see sinkLane.ts): its name, and a take that a stopping dispatcher
 * does not wait for.
 */
import type { HeldLease } from '../fleet/index.ts';

/** The lease name of a sink's lane (`lane:<sink name>`, e.g. `lane:ops`). */
export function laneLeaseName(sink: string): string {
  return `lane:${sink}`;
}

/**
 * `taking`, or undefined as soon as `signal` aborts (a take that hangs on an unreachable Redis must not hold
 * the dispatcher's stop); a lease taken after that is released at once.
 */
export function untilAborted(
  taking: Promise<HeldLease | undefined>,
  signal: AbortSignal,
): Promise<HeldLease | undefined> {
  if (signal.aborted) {
    void taking.then(
      (l) => l?.release(),
      () => undefined,
    );
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined); // a lease taken later is released below
    signal.addEventListener('abort', onAbort, { once: true });
    taking.then(
      (l) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) void l?.release();
        resolve(signal.aborted ? undefined : l);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
