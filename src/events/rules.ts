/**
 * Alert rules (config `ALERT_RULES`) and routing. Feed sinks (the emitter, the BullMQ queue) are data
 * feeds and get every event. Alert sinks (webhooks, log, stdout) get an event only when a rule that names
 * them matches it; with no rules configured, they get every non-backfill `job.status_changed`.
 */
import type { AlertRule } from '../config.ts';
import type { EventSink, MirrorEvent } from './types.ts';

export type { AlertRule } from '../config.ts';

const includes = (list: readonly string[] | undefined, value: string | null | undefined): boolean =>
  list === undefined || (value != null && list.includes(value));

/** Does `event` satisfy every condition of the rule's `when`? (Absent conditions match anything.) */
export function matchRule(rule: Pick<AlertRule, 'when'>, event: MirrorEvent): boolean {
  const w = rule.when;
  if (event.backfill && !(w.includeBackfill ?? false)) return false;
  if (event.inferred && !(w.includeInferred ?? true)) return false;
  if (!includes(w.type, event.type)) return false;
  if (!includes(w.to, event.to)) return false;
  if (!includes(w.from, event.from)) return false;
  if (!includes(w.endpoint, event.job?.endpoint)) return false;
  if (w.metadata) {
    const metadata = event.job?.metadata ?? {};
    for (const [key, value] of Object.entries(w.metadata)) if (metadata[key] !== value) return false;
  }
  return true;
}

/** What alert sinks receive when no rule is configured: live (non-backfill) status changes. */
export function isDefaultAlert(event: MirrorEvent): boolean {
  return event.type === 'job.status_changed' && !event.backfill;
}

/** The names of the sinks whose rules match `event` (alert routing only; feed sinks get everything). */
export function routeEvent(rules: readonly AlertRule[], event: MirrorEvent): Set<string> {
  const out = new Set<string>();
  for (const rule of rules) if (matchRule(rule, event)) for (const sink of rule.sinks) out.add(sink);
  return out;
}

export type SinkFilter = (sink: Pick<EventSink, 'name' | 'kind'>, event: MirrorEvent) => boolean;

export function createRouter(rules: readonly AlertRule[]): SinkFilter {
  return (sink, event) => {
    if (sink.kind === 'feed') return true;
    if (rules.length === 0) return isDefaultAlert(event);
    return rules.some((rule) => rule.sinks.includes(sink.name) && matchRule(rule, event));
  };
}

/** Every sink a rule names must exist; returns the problems as actionable messages (empty when fine). */
export function checkRuleSinks(rules: readonly AlertRule[], known: readonly string[]): string[] {
  const problems: string[] = [];
  for (const rule of rules) {
    for (const sink of rule.sinks) {
      if (!known.includes(sink)) {
        problems.push(
          `ALERT_RULES: rule "${rule.name}" routes to unknown sink "${sink}"; known sinks: ${known.join(', ')} (a webhook's sink name is its "name" in WEBHOOKS)`,
        );
      }
    }
  }
  return problems;
}
