/**
 * The console's two write actions, on a writable connection opened for the action and closed after it
 * (the server reads through a read-only one): resend a dead letter (`events retry --id N`) and replay a
 * sink from a seq (`events replay`). Both call the functions the CLI calls, so they behave the same.
 */
import type { Config } from '../config.ts';
import { RESERVED_SINK_NAMES, type RetryResult, retryDeadLetters } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';

export class ActionError extends Error {
  override name = 'ActionError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ActionDeps {
  /** Opens a writable connection for one action (closed after it). */
  openWriter: () => MirrorStore | Promise<MirrorStore>;
  config: Partial<Pick<Config, 'webhooks' | 'webhookSecret'>>;
  logger?: Logger;
}

async function withWriter<T>(deps: ActionDeps, fn: (m: MirrorStore) => Promise<T>): Promise<T> {
  const mirror = await deps.openWriter();
  try {
    return await fn(mirror);
  } finally {
    await mirror.close();
  }
}

/** Resend one dead letter once; resolved on success, its error and attempts updated otherwise. */
export function retryDeadLetter(deps: ActionDeps, id: number): Promise<RetryResult> {
  return withWriter(deps, async (mirror) => {
    const [result] = await retryDeadLetters({
      mirror,
      config: { webhooks: deps.config.webhooks ?? [], webhookSecret: deps.config.webhookSecret },
      ids: [id],
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
    if (!result) throw new ActionError(404, 'not_found', `no dead letter with id ${id}`);
    return result;
  });
}

/** Rewind `sink` so the dispatcher delivers again from `fromSeq` on; returns the new cursor. */
export function replaySink(
  deps: ActionDeps,
  sink: string,
  fromSeq: number,
): Promise<{ sink: string; cursor: number }> {
  return withWriter(deps, async (mirror) => {
    const known = [...RESERVED_SINK_NAMES, ...(deps.config.webhooks ?? []).map((w) => w.name)] as string[];
    if (!known.includes(sink) && (await mirror.cursors.get(sink)) === undefined) {
      throw new ActionError(404, 'unknown_sink', `unknown sink "${sink}"; known sinks: ${known.join(', ')}`);
    }
    if (!Number.isInteger(fromSeq) || fromSeq < 1) {
      throw new ActionError(422, 'invalid_request', '`fromSeq` must be an integer >= 1');
    }
    // A cursor past the outbox's end would make the sink skip every event until seq caught up with it.
    const end = await mirror.outbox.maxSeq();
    if (fromSeq > end + 1) {
      throw new ActionError(
        422,
        'invalid_request',
        `\`fromSeq\` ${fromSeq} is past the outbox's end (#${end}): replay from #${end + 1} or earlier`,
      );
    }
    return { sink, cursor: await mirror.cursors.replayFrom(sink, fromSeq) };
  });
}
