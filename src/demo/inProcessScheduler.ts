/**
 * The embedded scheduler: the same sync tasks the BullMQ worker runs (active, head, hydrate), on timers in
 * this process, one at a time (one writer). Used when no Redis is reachable, so the demo always works.
 * A failed task is logged and retried at its next due time; it never stops the loop.
 */

import { sleep } from '../backoff.ts';
import type { Config } from '../config.ts';
import type { RunSummary, SyncDeps } from '../sync/index.ts';
import { describeError, runSpec, type TaskSpec, taskConfigOf, taskSpecs } from '../sync/index.ts';

export interface InProcessSchedulerOptions {
  deps: SyncDeps;
  config: Pick<
    Config,
    | 'pageSize'
    | 'payloadMode'
    | 'headOverlapSeconds'
    | 'backfillDays'
    | 'sources'
    | 'activeStatuses'
    | 'headEveryMs'
    | 'activeEveryMs'
    | 'hydrateEveryMs'
  >;
  /** Called after every task run, success or not. */
  onRun?: (summary: RunSummary | { task: string; outcome: 'failed'; error: string }) => void;
}

export interface InProcessScheduler {
  /** Stops after the running task's current page; resolves when the loop has exited. */
  stop(): Promise<void>;
}

interface Slot {
  name: string;
  everyMs: number;
  dueAt: number;
  run: () => Promise<RunSummary>;
}

export function startInProcessScheduler(opts: InProcessSchedulerOptions): InProcessScheduler {
  const { config } = opts;
  const abort = new AbortController();
  const deps: SyncDeps = { ...opts.deps, signal: abort.signal };
  const now = Date.now();
  const tasks = taskConfigOf(config);
  const slot = (name: 'active' | 'head' | 'hydrate', everyMs: number): Slot => {
    const spec = taskSpecs(tasks, { task: name })[0] as TaskSpec;
    return { name, everyMs, dueAt: now, run: () => runSpec(deps, spec) };
  };
  // No reconcile here: the embedded scheduler serves the demo's short sessions (catalogue.ts has it).
  const slots: Slot[] = [
    slot('active', config.activeEveryMs),
    slot('head', config.headEveryMs),
    slot('hydrate', config.hydrateEveryMs),
  ];

  const loop = (async () => {
    while (!abort.signal.aborted) {
      const next = slots.reduce((a, b) => (b.dueAt < a.dueAt ? b : a));
      const wait = next.dueAt - Date.now();
      if (wait > 0) {
        await sleep(wait, abort.signal).catch(() => undefined); // stop() wakes it
        continue;
      }
      try {
        // Run first, then report: `opts.onRun?.(await next.run())` would skip the run when no one listens.
        const summary = await next.run();
        opts.onRun?.(summary);
      } catch (err) {
        opts.deps.logger.warn(
          { task: next.name, err: describeError(err) },
          `${next.name} failed; retrying on schedule`,
        );
        opts.onRun?.({ task: next.name, outcome: 'failed', error: describeError(err) });
      }
      next.dueAt = Date.now() + next.everyMs;
    }
  })();

  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}
