/**
 * Event delivery for `retab-mirror sync`: the same dispatcher, sinks and cursors the worker uses, started
 * before the pass (each committed page wakes it) and drained before the command exits, so a sync run from
 * cron delivers its events. No Redis: the events queue is left to the worker (its cursor stays put), and
 * webhook retries run in this process. What is not delivered within `timeoutMs` stays after its sink's
 * cursor: the next run, or the worker, delivers it.
 */
import type { Config } from '../config.ts';
import type { MirrorDispatcher, SinkStatus } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';

export interface SyncDelivery {
  notify(): void;
  /** Deliver what is in the outbox (up to `timeoutMs`), stop, and report each sink. Aborting `signal` ends it early. */
  finish(opts: { timeoutMs: number; signal: AbortSignal; deliver: boolean }): Promise<SinkStatus[]>;
}

/**
 * Check the events settings (an `EventsConfigError` names a bad one), then start delivering unless
 * `enabled` is false (`--no-events`: the events stay in the outbox for the worker or a later run).
 */
export async function startSyncDelivery(
  config: Config,
  mirror: MirrorStore,
  logger: Logger,
  enabled: boolean,
): Promise<SyncDelivery> {
  // Loaded here: BullMQ comes with the sinks, and only this command path needs them.
  const { checkEventsConfig, createDispatcher, EMITTER_SINK } = await import('../events/index.ts');
  if (!enabled) {
    checkEventsConfig(config);
    return { notify: () => undefined, finish: async () => [] };
  }
  const dispatcher: MirrorDispatcher = createDispatcher({ mirror, config, logger, redis: null });
  dispatcher.start();
  return {
    notify: () => dispatcher.notify(),
    async finish({ timeoutMs, signal, deliver }) {
      const onAbort = () => void dispatcher.stop();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        if (deliver && !signal.aborted) await dispatcher.drain({ timeoutMs });
      } catch (err) {
        if (!signal.aborted) {
          logger.warn(
            { err: (err as Error).message },
            'events not all delivered before --events-timeout; the next run or the worker delivers the rest',
          );
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      let status: SinkStatus[] = [];
      try {
        status = dispatcher.status().filter((s) => s.sink !== EMITTER_SINK);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'could not read the delivery cursors');
      }
      await dispatcher.stop();
      return status;
    },
  };
}

/** One summary line per sink: where its cursor is, and what is left for a later run. */
export function formatDelivery(status: SinkStatus[]): string {
  if (status.length === 0) return '';
  const lines = status.map((s) => {
    const state = s.disabledAt
      ? `DISABLED (410 Gone): \`events enable --sink ${s.sink}\` once fixed`
      : s.lag > 0
        ? `${s.lag} after its cursor (delivered by the next run or the worker)`
        : 'up to date';
    return `  ${s.sink.padEnd(12)}seq ${s.cursor}, ${state}`;
  });
  return `delivery:\n${lines.join('\n')}\n`;
}
