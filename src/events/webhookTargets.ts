/** The configured webhooks as delivery targets, validated: unique names that do not shadow built-in sinks. */
import type { Config } from '../config.ts';
import type { WebhookTarget } from './postWebhook.ts';
import { EMITTER_SINK, LOG_SINK, QUEUE_SINK, STDOUT_SINK } from './sinkNames.ts';

export const RESERVED_SINK_NAMES = [EMITTER_SINK, QUEUE_SINK, LOG_SINK, STDOUT_SINK] as const;

/** The webhook targets of a config: name → URL and secret (the per-webhook secret, else `WEBHOOK_SECRET`). */
export function webhookTargets(
  config: Pick<Config, 'webhooks' | 'webhookSecret'>,
): Map<string, WebhookTarget> {
  const targets = new Map<string, WebhookTarget>();
  for (const w of config.webhooks) {
    if ((RESERVED_SINK_NAMES as readonly string[]).includes(w.name)) {
      throw new Error(
        `WEBHOOKS: a webhook is named "${w.name}", which is a built-in sink; rename it (reserved: ${RESERVED_SINK_NAMES.join(', ')})`,
      );
    }
    if (targets.has(w.name))
      throw new Error(`WEBHOOKS: two webhooks are named "${w.name}"; names must be unique`);
    targets.set(w.name, { name: w.name, url: w.url, secret: w.secret ?? config.webhookSecret });
  }
  return targets;
}
