/**
 * The Alerts page's numbers: where each sink is in the outbox (cursor and lag in events), the dead letters
 * (unresolved first, then the most recently resolved), and the alert rules and webhooks in force. Webhook
 * URLs are shown as origin and path only: a query string may carry a credential.
 */

import type { Config } from '../config.ts';
import type { MirrorStore } from '../mirror/index.ts';
import type { AlertsView } from './wire.ts';

export type { AlertsView } from './wire.ts';

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export async function computeAlertsView(
  store: MirrorStore,
  config: Partial<Pick<Config, 'alertRules' | 'webhooks'>>,
  limit = 100,
): Promise<AlertsView> {
  const maxSeq = await store.outbox.maxSeq();
  const sinks = (await store.cursors.list()).map((c) => ({
    sink: c.sink,
    seq: c.seq,
    updatedAt: c.updatedAt,
    lag: Math.max(0, maxSeq - c.seq),
  }));
  const deadLetters: AlertsView['deadLetters'] = await store.views.deadLetterBriefs(limit);
  return {
    maxSeq,
    sinks,
    deadLetters,
    rules: config.alertRules ?? [],
    webhooks: (config.webhooks ?? []).map((w) => ({ name: w.name, url: safeUrl(w.url) })),
  };
}
