/**
 * The in-process typed emitter library users subscribe to (`mirror.on('job.status_changed', (e) => …)`).
 * Unlike node's EventEmitter, a listener that throws — synchronously or by rejecting — is logged and
 * never stops the other listeners nor the dispatcher that emits (the "safeEmit" rule).
 */
import { type Logger, silentLogger } from '../log.ts';
import type { MirrorEventMap, MirrorEventName } from './types.ts';

export type MirrorListener<K extends MirrorEventName> = (payload: MirrorEventMap[K]) => void | Promise<void>;

export interface MirrorEventsOptions {
  /** Where listener failures are reported. @default silentLogger */
  logger?: Logger;
}

export class MirrorEvents {
  readonly #listeners = new Map<MirrorEventName, MirrorListener<never>[]>();
  readonly #logger: Logger;

  constructor(opts: MirrorEventsOptions = {}) {
    this.#logger = opts.logger ?? silentLogger;
  }

  on<K extends MirrorEventName>(name: K, listener: MirrorListener<K>): this {
    const list = this.#listeners.get(name) ?? [];
    list.push(listener as MirrorListener<never>);
    this.#listeners.set(name, list);
    return this;
  }

  once<K extends MirrorEventName>(name: K, listener: MirrorListener<K>): this {
    const wrapper: MirrorListener<K> = (payload) => {
      this.off(name, wrapper);
      return listener(payload);
    };
    return this.on(name, wrapper);
  }

  off<K extends MirrorEventName>(name: K, listener: MirrorListener<K>): this {
    const list = this.#listeners.get(name);
    const i = list?.lastIndexOf(listener as MirrorListener<never>) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
    return this;
  }

  listenerCount(name: MirrorEventName): number {
    return this.#listeners.get(name)?.length ?? 0;
  }

  /**
   * Call every listener of `name` in registration order; resolves once async listeners have settled, so a
   * dispatcher acknowledges an event only after its listeners handled it. Never rejects.
   */
  async emit<K extends MirrorEventName>(name: K, payload: MirrorEventMap[K]): Promise<void> {
    const list = this.#listeners.get(name);
    if (!list || list.length === 0) return;
    const pending: Promise<void>[] = [];
    for (const listener of [...list]) {
      try {
        const result = (listener as MirrorListener<K>)(payload);
        if (result && typeof (result as Promise<void>).then === 'function') {
          pending.push(Promise.resolve(result).catch((err: unknown) => this.#report(name, err)));
        }
      } catch (err) {
        this.#report(name, err);
      }
    }
    if (pending.length > 0) await Promise.all(pending);
  }

  #report(name: MirrorEventName, err: unknown): void {
    this.#logger.error({ err, event: name }, `a "${name}" listener threw; delivery continues`);
  }
}

export function createMirrorEvents(opts: MirrorEventsOptions = {}): MirrorEvents {
  return new MirrorEvents(opts);
}
