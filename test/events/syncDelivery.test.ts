/**
 * `retab-mirror sync` (the real CLI, from cron) delivers its events: every event a rule routes to a webhook
 * is POSTed once, each sink's cursor is advanced, a rerun re-sends nothing, and a rule naming an unknown
 * sink stops the command before it syncs (exit 2). On each store (test/stores.ts): MIRROR_DB is a file or the
 * PostgreSQL URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertRuleSchema } from '../../src/config.ts';
import { matchRule } from '../../src/events/rules.ts';
import type { MirrorEvent } from '../../src/events/types.ts';
import { type MirrorStore, openStore } from '../../src/mirror/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { cliEnv, runCli, spawnCli } from '../reliability/helpers.ts';
import { forEachStore } from '../stores.ts';
import { type Receiver, startReceiver, waitFor } from './helpers.ts';

const RULES = [
  {
    name: 'finished',
    when: { type: ['job.status_changed'], to: ['completed', 'failed'] },
    sinks: ['hook-a', 'hook-b'],
  },
  {
    name: 'bad-news',
    when: { type: ['job.status_changed'], to: ['failed', 'cancelled'] },
    sinks: ['hook-b', 'log'],
  },
];
const rules = RULES.map((r) => AlertRuleSchema.parse(r));

let sim: Simulator;
/** The running store's mirror (MIRROR_DB of the children). */
let location: string;
let a: Receiver;
let b: Receiver;

const env = (rulesJson = JSON.stringify(RULES)) =>
  cliEnv(sim, location, {
    WEBHOOKS: JSON.stringify([
      { name: 'hook-a', url: a.url },
      { name: 'hook-b', url: b.url },
    ]),
    WEBHOOK_SECRET: 'whsec_c3luYy1kZWxpdmVyeS10ZXN0',
    ALERT_RULES: rulesJson,
  });
const sync = (e = env()) => runCli(['sync', '--no-progress'], e, { timeoutMs: 60_000 });

/** Read the mirror the children wrote, as another process does. */
async function reading<T>(fn: (m: MirrorStore) => Promise<T>): Promise<T> {
  const mirror = await openStore(location, { readonly: true });
  try {
    return await fn(mirror);
  } finally {
    await mirror.close();
  }
}

async function outbox(): Promise<{
  events: MirrorEvent[];
  max: number;
  cursors: Record<string, number | undefined>;
}> {
  return reading(async (mirror) => {
    const cursors: Record<string, number | undefined> = {};
    for (const s of ['hook-a', 'hook-b', 'log', 'emitter', 'queue'])
      cursors[s] = (await mirror.cursors.get(s))?.seq;
    return { events: await mirror.outbox.after(0, 1_000_000), max: await mirror.outbox.maxSeq(), cursors };
  });
}

const routedTo = (sink: string, events: MirrorEvent[]) =>
  events.filter((e) => rules.some((r) => r.sinks.includes(sink) && matchRule(r, e))).map((e) => e.eventId);

forEachStore((store) => {
  beforeAll(async () => {
    sim = await startSimulator({ seed: 17, jobs: 150, days: 1, now: Date.now() - 3600_000 });
    location = await store.location();
    [a, b] = await Promise.all([startReceiver(), startReceiver()]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close(), sim.close()]);
  });

  describe('retab-mirror sync delivers its events', () => {
    it('POSTs every routed event once to each webhook and advances the cursors; a rerun re-sends nothing', async () => {
      const first = await sync();
      expect(first.stderr).not.toMatch(/error/i);
      expect(first.code).toBe(0);
      sim.clock.advance(30 * 60_000); // in-flight jobs finish, fail, get cancelled; new ones arrive
      const second = await sync();
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/delivery:\n {2}hook-a +seq \d+, up to date/);

      const { events, max, cursors } = await outbox();
      const toA = routedTo('hook-a', events);
      const toB = routedTo('hook-b', events);
      expect(toA.length).toBeGreaterThan(0); // live status changes happened and were routed
      expect(toB.length).toBeGreaterThan(toA.length - 1);
      expect(a.received.map((r) => r.event.eventId)).toEqual(toA);
      expect(b.received.map((r) => r.event.eventId)).toEqual(toB);
      // Every sink this run delivered to is at the end; the events queue (no Redis in `sync`) is left to the worker.
      expect(cursors).toMatchObject({ 'hook-a': max, 'hook-b': max, log: max, emitter: max });
      expect(cursors.queue).toBeUndefined();

      const third = await sync();
      expect(third.code).toBe(0);
      expect(a.received).toHaveLength(toA.length);
      expect(b.received).toHaveLength(toB.length);

      // `--no-events` leaves the new events in the outbox; the next run delivers them, once.
      sim.clock.advance(30 * 60_000);
      const quiet = await runCli(['sync', '--no-progress', '--no-events'], env(), { timeoutMs: 60_000 });
      expect(quiet.code).toBe(0);
      const later = await outbox();
      expect(later.max).toBeGreaterThan(max);
      expect(later.cursors['hook-a']).toBe(max);
      expect(a.received).toHaveLength(toA.length);
      expect((await sync()).code).toBe(0);
      const final = await outbox();
      expect(a.received.map((r) => r.event.eventId)).toEqual(routedTo('hook-a', final.events));
      expect(b.received.map((r) => r.event.eventId)).toEqual(routedTo('hook-b', final.events));
      expect(a.received.length).toBeGreaterThan(toA.length);
      expect(final.cursors['hook-a']).toBe(final.max);
    });

    it('Ctrl-C while it waits for a failing webhook stops at once with exit 130, the rest left for the next run', async () => {
      sim.clock.advance(30 * 60_000); // new status changes for hook-a
      a.respond = () => 503; // retried with backoff: the run waits in delivery
      const before = a.received.length;
      const lastRun = () => reading(async (mirror) => (await mirror.runs.lastSuccessful('hydrate'))?.id ?? 0);
      const runsBefore = await lastRun();
      try {
        const run = spawnCli(['sync', '--no-progress'], env(), { timeoutMs: 60_000 });
        // The pass is over (hydrate is its last task) and the run is retrying the webhook.
        await waitFor(async () => (await lastRun()) > runsBefore, 30_000, 'the pass to finish');
        await waitFor(() => a.received.length > before, 30_000, 'a first delivery attempt');
        run.child.kill('SIGINT');
        const r = await run.exited;
        expect(r.code).toBe(130);
        expect(r.stdout).toMatch(/^sync complete/);
        expect(r.stdout).toMatch(/hook-a +seq \d+, \d+ after its cursor/);
        expect(r.stderr).toContain('stopping event delivery');
      } finally {
        delete a.respond;
      }
    });

    it('a rule naming an unknown sink stops sync before it starts: exit 2, one line naming the sink', async () => {
      const requests = sim.stats.total;
      const typo = JSON.stringify([{ ...RULES[0], sinks: ['hook-a', 'hook-bb'] }]);
      const r = await sync(env(typo));
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('ALERT_RULES: rule "finished" routes to unknown sink "hook-bb"');
      expect(r.stderr).toContain('hook-a, hook-b');
      expect(sim.stats.total).toBe(requests);
    });
  });
});
