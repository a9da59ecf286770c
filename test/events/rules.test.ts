import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AlertRule, AlertRuleSchema } from '../../src/config.ts';
import { createDispatcher, type EventsConfig } from '../../src/events/createDispatcher.ts';
import { createRouter, matchRule, routeEvent } from '../../src/events/rules.ts';
import type { MirrorEvent } from '../../src/events/types.ts';
import { forEachStore } from '../stores.ts';
import { appendTestEvents as insertEvents, makeJob, type Receiver, startReceiver } from './helpers.ts';

const rule = (when: unknown, sinks = ['log']): AlertRule => AlertRuleSchema.parse({ name: 'r', when, sinks });

function event(over: Partial<MirrorEvent> = {}): MirrorEvent {
  return {
    seq: 1,
    eventId: 'evt_1',
    type: 'job.status_changed',
    jobId: 'job_1',
    from: 'in_progress',
    to: 'failed',
    occurredAt: 1,
    observedAt: 2,
    inferred: false,
    backfill: false,
    job: makeJob(1, 'failed', { metadata: { batch_id: 'b-42', team: 'ops' } }),
    ...over,
  };
}

describe('matchRule', () => {
  it('matches on type, from, to, endpoint and every metadata pair', () => {
    expect(matchRule(rule({}), event())).toBe(true);
    expect(matchRule(rule({ to: ['failed'] }), event())).toBe(true);
    expect(matchRule(rule({ to: ['completed'] }), event())).toBe(false);
    expect(matchRule(rule({ from: ['queued'] }), event())).toBe(false);
    expect(matchRule(rule({ type: ['job.discovered'] }), event())).toBe(false);
    expect(matchRule(rule({ endpoint: ['/v1/documents/extract'] }), event())).toBe(true);
    expect(matchRule(rule({ endpoint: ['/v1/documents/parse'] }), event())).toBe(false);
    expect(matchRule(rule({ metadata: { batch_id: 'b-42' } }), event())).toBe(true);
    expect(matchRule(rule({ metadata: { batch_id: 'b-42', team: 'sales' } }), event())).toBe(false);
    expect(matchRule(rule({ metadata: { batch_id: 'b-42' } }), event({ job: makeJob(1, 'failed') }))).toBe(
      false,
    );
    // A discovered job has no "from": a rule on "from" never matches it.
    expect(matchRule(rule({ from: ['queued'] }), event({ type: 'job.discovered', from: null }))).toBe(false);
  });

  it('ignores backfill events unless includeBackfill, and inferred steps only when includeInferred is false', () => {
    expect(matchRule(rule({}), event({ backfill: true }))).toBe(false);
    expect(matchRule(rule({ includeBackfill: true }), event({ backfill: true }))).toBe(true);
    expect(matchRule(rule({}), event({ inferred: true }))).toBe(true);
    expect(matchRule(rule({ includeInferred: false }), event({ inferred: true }))).toBe(false);
  });

  it('routes to the union of the sinks of every matching rule; feeds get everything', () => {
    const rules = [
      AlertRuleSchema.parse({ name: 'failures', when: { to: ['failed'] }, sinks: ['pager', 'log'] }),
      AlertRuleSchema.parse({ name: 'done', when: { to: ['completed'] }, sinks: ['slack'] }),
    ];
    expect([...routeEvent(rules, event())].sort()).toEqual(['log', 'pager']);
    const route = createRouter(rules);
    const completed = event({ to: 'completed' });
    expect(route({ name: 'slack', kind: 'alert' }, completed)).toBe(true);
    expect(route({ name: 'pager', kind: 'alert' }, completed)).toBe(false);
    expect(route({ name: 'queue', kind: 'feed' }, event({ backfill: true }))).toBe(true);
    // Without rules, alert sinks get live status changes only.
    const none = createRouter([]);
    expect(none({ name: 'hook', kind: 'alert' }, event())).toBe(true);
    expect(none({ name: 'hook', kind: 'alert' }, event({ backfill: true }))).toBe(false);
    expect(none({ name: 'hook', kind: 'alert' }, event({ type: 'job.discovered', from: null }))).toBe(false);
  });
});

// The routing through a dispatcher reads a real outbox: on each store (test/stores.ts).
forEachStore((store) => {
  describe('routing through the dispatcher', () => {
    let failures: Receiver;
    let everything: Receiver;
    beforeAll(async () => {
      failures = await startReceiver();
      everything = await startReceiver();
    });
    afterEach(() => {
      failures.received.length = 0;
      everything.received.length = 0;
    });
    afterAll(async () => {
      await failures.close();
      await everything.close();
    });

    const base = (rules: unknown[]): EventsConfig => ({
      webhooks: [
        { name: 'failures', url: failures.url },
        { name: 'everything', url: everything.url },
      ],
      webhookSecret: 'whsec-rules',
      alertRules: rules.map((r) => AlertRuleSchema.parse(r)),
      eventsQueue: 'events',
      eventsQueueEnabled: false,
      queuePrefix: 'unused',
    });

    it('only matching events reach a rule’s sinks; backfill is alerted only when the rule asks', async () => {
      const mirror = await store.open();
      // 12 events: failures and completions, live and backfill, in two batches.
      await insertEvents(mirror, 12, (i) => ({
        from: 'in_progress',
        to: i % 2 === 0 ? 'failed' : 'completed',
        backfill: i >= 8,
        job: { metadata: { batch_id: i % 3 === 0 ? 'b-1' : 'b-2' } },
      }));
      const out = new PassThrough();
      const lines: string[] = [];
      out.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
      const d = createDispatcher({
        mirror,
        log: false,
        stdout: out,
        config: base([
          { name: 'live failures', when: { to: ['failed'] }, sinks: ['failures'] },
          { name: 'all incl. history', when: { includeBackfill: true }, sinks: ['everything'] },
          {
            name: 'batch b-1 finished',
            when: { metadata: { batch_id: 'b-1' }, to: ['completed', 'failed'] },
            sinks: ['stdout'],
          },
        ]),
      });
      const viaEmitter: number[] = [];
      d.emitter.on('job.status_changed', (e) => {
        viaEmitter.push(e.seq);
      });
      await d.drain();
      await d.stop();
      expect(failures.received.map((r) => r.event.seq)).toEqual([1, 3, 5, 7]);
      expect(everything.received.map((r) => r.event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(lines.map((l) => (JSON.parse(l) as MirrorEvent).seq)).toEqual([1, 4, 7]);
      expect(viaEmitter).toHaveLength(12);
    });

    it('without rules, webhooks get every live status change and nothing else', async () => {
      const mirror = await store.open();
      await insertEvents(mirror, 6, (i) => ({
        type: i === 0 ? 'job.discovered' : i === 1 ? 'job.missing_upstream' : 'job.status_changed',
        backfill: i === 2,
      }));
      const d = createDispatcher({ mirror, log: false, config: base([]) });
      await d.drain();
      await d.stop();
      expect(failures.received.map((r) => r.event.seq)).toEqual([4, 5, 6]);
      expect(everything.received.map((r) => r.event.seq)).toEqual([4, 5, 6]);
    });

    it('a rule naming an unknown sink, or a webhook shadowing a built-in sink, fails at start-up with the fix', async () => {
      const mirror = await store.open();
      expect(() =>
        createDispatcher({ mirror, config: base([{ name: 'typo', when: {}, sinks: ['pagerduty'] }]) }),
      ).toThrow(/rule "typo" routes to unknown sink "pagerduty"; known sinks: .*failures/);
      const shadow = { ...base([]), webhooks: [{ name: 'log', url: failures.url }] };
      expect(() => createDispatcher({ mirror, config: shadow })).toThrow(
        /named "log", which is a built-in sink/,
      );
    });
  });
});
