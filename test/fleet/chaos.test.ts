/**
 * The fleet chaos test (issue #22): three `retab-mirror worker` processes on one PostgreSQL mirror and one
 * Redis prefix, delivering to one webhook, while the simulator evolves on a realtime clock (arrivals, status
 * transitions, retries). Every ~10 s a random worker is SIGKILLed and restarted at once (3 kills in CI,
 * `RELIABILITY_TRIALS=6` for the minute the issue describes). Then a quiet period: the simulator's clock is
 * frozen, the fleet runs head and active again and delivers what it wrote, and is stopped (SIGTERM); a final
 * `sync --reconcile`, alone, catches the transitions no poll could see and delivers its own events.
 * Afterwards:
 *
 * - the mirror equals the simulator's ground truth (every job, status and field `truthDiff` compares);
 * - every status change has exactly one event id in the outbox: no id twice, no transition recorded twice,
 *   each job's chain continuous from `job.discovered` to its current status (`outboxProblems`);
 * - every outbox event reached the webhook at least once (ids compared both ways), those the fleet wrote
 *   while the fleet ran;
 * - no checkpoint moved backwards: every partition's watermark and cursor sampled every 200 ms through the
 *   store API during the run, the end state against the highest watermark sampled, and — to see the states
 *   no sample catches — every committed write to `sync_state`, audited by a trigger on the test's database
 *   (fleetHelpers.ts `checkpointRegression` says what counts as backwards).
 *
 * The comparisons of the reliability suite read an SQLite file: the PostgreSQL mirror is copied into one
 * with `retab-mirror copy` (every table, keys kept, counts verified) at the end. Beside the assertions, the
 * test prints its evidence: the kills, overlapping runs of one partition (what partition leases rule out),
 * webhook requests per event (what one delivery lane per sink reduces) and what the workers logged.
 * Nothing is left behind, pass or fail: children, the database, the Redis keys and the temp dir are
 * checked in the teardown.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type MirrorStore, openStore, type SyncStateRow } from '../../src/mirror/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type Receiver, startReceiver } from '../events/helpers.ts';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../pg/pgDatabase.ts';
import {
  BUSY_RATES,
  cliEnv,
  dropPrefix,
  integrity,
  outboxProblems,
  seeded,
  sleep,
  type TempDir,
  tempDir,
  trials,
  truthDiff,
  uniquePrefix,
  waitFor,
} from '../reliability/helpers.ts';
import {
  belowHighest,
  type CheckpointSample,
  type CheckpointWatch,
  checkpointRegression,
  type Fleet,
  installCheckpointAudit,
  keysUnder,
  outboxEventIds,
  overlappingRuns,
  readCheckpointAudit,
  removeCheckpointAudit,
  startFleet,
  watchCheckpoints,
} from './fleetHelpers.ts';

const WORKERS = 3;
/** Kills, one every ~10 s: 3 in CI (~30 s of chaos), `RELIABILITY_TRIALS=6` for a minute. */
const KILLS = trials(3);
const SEED = 20_261_201;
const DAY_MS = 86_400_000;
const redisUrl = inject('redisUrl');
/** The whole scenario's budget (also the longest a child may live). */
const BUDGET_MS = 120_000 + KILLS * 12_000;

/** At most this many lines of a failed check are printed (the count is always given). */
const SHOWN = 40;
const shown = (lines: readonly string[]) => lines.slice(0, SHOWN);
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('checkpointRegression (the watcher’s rule)', () => {
  const s = (over: Partial<CheckpointSample>): CheckpointSample => ({
    at: 0,
    partition: 'window:2026-11-30',
    cursor: null,
    cursorCreatedAt: undefined,
    watermark: null,
    status: 'running',
    lastSuccessAt: null,
    ...over,
  });
  it('flags a watermark that decreases or is cleared, and a cursor moving against its walk', () => {
    expect(checkpointRegression(s({ watermark: 100 }), s({ watermark: 99 }))).toMatch(/watermark/);
    expect(checkpointRegression(s({ watermark: 100 }), s({ watermark: null }))).toMatch(/watermark/);
    // window: oldest first, so an older cursor is backwards; head: newest first, so a newer one is.
    const a = { cursor: 'job_b', cursorCreatedAt: 200 };
    const older = { cursor: 'job_a', cursorCreatedAt: 100 };
    expect(checkpointRegression(s(a), s(older))).toMatch(/cursor went back/);
    expect(checkpointRegression(s({ ...older, partition: 'head' }), s({ ...a, partition: 'head' }))).toMatch(
      /cursor went back/,
    );
    // A dense day's end walk (window:<day>:desc) lists newest first, like head.
    const desc = 'window:2026-11-30:desc';
    expect(
      checkpointRegression(s({ ...a, partition: desc }), s({ ...older, partition: desc })),
    ).toBeUndefined();
    expect(checkpointRegression(s({ ...older, partition: desc }), s({ ...a, partition: desc }))).toMatch(
      /cursor went back/,
    );
    // Same created_at: the id breaks the tie, as upstream lists.
    expect(
      checkpointRegression(
        s({ cursor: 'job_b', cursorCreatedAt: 5 }),
        s({ cursor: 'job_a', cursorCreatedAt: 5 }),
      ),
    ).toMatch(/cursor went back/);
  });
  it('compares an end state with the highest watermark sampled', () => {
    const row = (partition: string, watermark: number | null) =>
      ({ partition, watermark }) as unknown as SyncStateRow;
    const highest = new Map([
      ['head', 100],
      ['head:source=api', 50],
    ]);
    expect(belowHighest(highest, [row('head', 100), row('head:source=api', 60)])).toEqual([]);
    expect(belowHighest(highest, [row('head', 99), row('head:source=api', null)])).toHaveLength(2);
  });
  it('accepts progress, the end of a walk and a new walk after a completion', () => {
    const a = { cursor: 'job_a', cursorCreatedAt: 100 };
    const b = { cursor: 'job_b', cursorCreatedAt: 200 };
    expect(checkpointRegression(s({ ...a, watermark: 5 }), s({ ...b, watermark: 6 }))).toBeUndefined();
    expect(checkpointRegression(s(b), s({ cursor: null }))).toBeUndefined();
    expect(checkpointRegression(s({ cursor: null }), s(a))).toBeUndefined();
    expect(
      checkpointRegression(s({ ...b, lastSuccessAt: 1 }), s({ ...a, lastSuccessAt: 2 })),
    ).toBeUndefined();
    expect(
      checkpointRegression(s({ ...b, partition: 'active:queued' }), s({ ...a, partition: 'active:queued' })),
    ).toBeUndefined();
  });
});

describe(`a fleet of ${WORKERS} workers, one SIGKILLed every ~10 s`, () => {
  let sim: Simulator;
  let db: TestDatabase;
  let tmp: TempDir;
  let receiver: Receiver;
  let store: MirrorStore | undefined;
  let watch: CheckpointWatch | undefined;
  let fleet: Fleet | undefined;
  const prefix = `fleet-${uniquePrefix()}`;

  beforeAll(async () => {
    sim = await startSimulator({
      seed: SEED,
      jobs: 800,
      days: 3,
      clock: 'realtime',
      // BUSY_RATES move a lot per simulated minute; on a realtime clock a 30 s run needs more arrivals and
      // shorter stays in each state for jobs to move while the workers die.
      rates: {
        ...BUSY_RATES,
        arrivalsPerMinute: 240,
        retriesPerMinute: 20,
        validatingSeconds: 1,
        queuedSeconds: 3,
        inProgressSeconds: 8,
      },
    });
    db = await createTestDatabase();
    tmp = tempDir('retab-fleet-');
    receiver = await startReceiver();
  });

  afterAll(async () => {
    // Each step runs whatever failed before it: a failing test must leave nothing behind either.
    const leaks: string[] = [];
    const step = async (what: string, fn: () => Promise<unknown> | unknown) => {
      try {
        await fn();
      } catch (err) {
        leaks.push(`${what}: ${(err as Error).message}`);
      }
    };
    await step('stop the workers', () => fleet?.destroy());
    await step('stop the checkpoint watcher', () => watch?.stop());
    await step('close the watcher store', () => store?.close());
    await step('close the receiver', () => receiver?.close());
    await step('close the simulator', () => sim?.close());
    await step('drop the database', () => db?.drop());
    await step('delete the Redis keys', () => dropPrefix(redisUrl, prefix));
    await step('remove the temp dir', () => tmp?.cleanup());

    for (const c of fleet?.started ?? [])
      if (c.child.exitCode === null && c.child.signalCode === null)
        leaks.push(`worker pid ${c.child.pid} still running`);
    const keys = await keysUnder(redisUrl, prefix).catch((err: Error) => [`(scan failed: ${err.message})`]);
    if (keys.length > 0)
      leaks.push(`${keys.length} Redis keys left under ${prefix}: ${keys.slice(0, 5).join(', ')}`);
    if (tmp && existsSync(tmp.dir)) leaks.push(`temp dir ${tmp.dir} left`);
    if (db) {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await step('check the database is gone', async () => {
        await c.connect();
        const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
        if (r.rowCount) leaks.push(`database ${db.name} left`);
      });
      await c.end().catch(() => undefined);
    }
    if (leaks.length > 0) throw new Error(`the chaos test left things behind:\n${leaks.join('\n')}`);
  });

  it(
    'after kills and a quiet period: mirror = upstream, one event id per change, every event delivered, no checkpoint regressed',
    async () => {
      const rng = seeded(SEED);
      const env = cliEnv(sim, db.url, {
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        PAGE_SIZE: '20',
        BACKFILL_DAYS: '4',
        POLL_HEAD_MS: '1000',
        POLL_ACTIVE_MS: '1000',
        POLL_HYDRATE_MS: '2000',
        // Reconcile restarts its windows from the top on purpose: it runs once, at the end, by hand.
        POLL_RECONCILE_MS: String(7 * DAY_MS),
        WORKER_CONCURRENCY: '2',
        RATE_LIMIT_RPS: '100',
        // A dead worker's leases (issue #22, fleet-b/c) are taken over within seconds, not LEASE_TTL_MS's 30.
        LEASE_TTL_MS: '4000',
        MIRROR_DB_POOL_SIZE: '4',
        EVENTS_QUEUE_ENABLED: 'false',
        WEBHOOKS: JSON.stringify([{ name: 'chaos', url: receiver.url, secret: 'chaos-test-secret' }]),
        // Every event to the webhook, history included: the delivered ids must then equal the outbox's.
        ALERT_RULES: JSON.stringify([
          { name: 'everything', when: { includeBackfill: true }, sinks: ['chaos'] },
        ]),
      });

      // The schema exists before anyone samples it; the workers migrate under the same advisory lock.
      store = await openStore(db.url, { poolSize: 2 });
      watch = watchCheckpoints(store, 200);
      await installCheckpointAudit(db.url);
      fleet = startFleet(WORKERS, env, BUDGET_MS);
      const started = Date.now();
      // Past days as window jobs too, so the fleet sweeps them side by side with head's backfill.
      const backfill = await fleet.run([
        'backfill',
        '--from',
        day(Date.now() - 3 * DAY_MS),
        '--to',
        day(Date.now()),
      ]);
      expect(backfill.code, backfill.stderr).toBe(0);

      const kills: string[] = [];
      for (let k = 0; k < KILLS; k++) {
        await sleep(rng.int(8_000, 12_000));
        const i = rng.int(0, WORKERS - 1);
        const pid = fleet.workers[i]?.child.pid;
        const ended = await fleet.kill(i);
        // A worker that was already dead (crashed on its own) is a finding, not a kill.
        expect(ended.signal, `worker ${i} (pid ${pid}) ended before its kill:\n${ended.stderr}`).toBe(
          'SIGKILL',
        );
        kills.push(
          `+${Date.now() - started} ms: worker ${i} (pid ${pid}) killed, ${sim.stats.total} requests so far`,
        );
        fleet.restart(i);
      }

      // Quiet period: upstream stops changing; the fleet (with its restarted members) polls again.
      sim.clock.freeze();
      const frozenAt = Date.now();
      for (const task of ['head', 'active'])
        await waitFor(
          `a successful ${task} run started after the freeze`,
          async () => ((await store?.runs.lastSuccessful(task))?.startedAt ?? 0) > frozenAt,
          45_000,
          200,
        ).catch(async (err: Error) => {
          const runs = (await store?.runs.list({ partition: task, limit: 8 })) ?? [];
          const lines = runs.map(
            (r) =>
              `run ${r.id} ${r.partition} ${r.outcome} started ${r.startedAt - frozenAt} ms after the freeze: ${r.error ?? ''}`,
          );
          throw new Error(`${err.message}\n${lines.join('\n')}\n${fleet?.stderrTail()}`);
        });
      const watched = await watch.stop();
      watch = undefined;

      // The fleet delivers every event it wrote, then stops gracefully (SIGTERM).
      const receivedIds = () => new Set(receiver.received.map((r) => String(r.event.eventId)));
      const fleetIds = await outboxEventIds(store);
      await waitFor(
        'the fleet to deliver every event it wrote to the webhook',
        () => {
          const got = receivedIds();
          return fleetIds.every((id) => got.has(id));
        },
        30_000,
        200,
      ).catch(() => undefined); // what is missing is asserted below, with the ids
      const deliveredByFleet = receivedIds();
      const undeliveredByFleet = fleetIds.filter((id) => !deliveredByFleet.has(id));
      const stopped = await fleet.stop();
      const workerLog = fleet.stderrTail();

      // Transitions that happened entirely between two polls (a retry that failed again) are only seen by
      // re-listing: one reconcile, alone (so it races no worker), delivering its events before it exits.
      const reconcile = await fleet.run(['sync', '--no-progress', '--reconcile', '--events-timeout', '30']);
      expect(reconcile.code, reconcile.stderr).toBe(0);

      // A regression the 200 ms samples missed still shows if it outlived them: compare the end state.
      const endRegressions = belowHighest(watched.highest, await store.syncState.list());
      const audited = await readCheckpointAudit(db.url);
      await removeCheckpointAudit(db.url);
      const file = tmp.dbPath;
      const copy = await fleet.run(['copy', '--from', db.url, '--to', file]);
      expect(copy.code, copy.stderr).toBe(0);

      const finalIds = await outboxEventIds(store);
      const received = receivedIds();
      const outbox = new Set(finalIds);
      const undelivered = finalIds.filter((id) => !received.has(id));
      const unknown = [...received].filter((id) => !outbox.has(id));
      const diff = truthDiff(sim, file);
      const problems = outboxProblems(file);
      // Evidence, not assertions of this test: concurrent runs of one partition (what partition leases
      // prevent) and webhook requests beyond one per event (what one delivery lane per sink prevents).
      const overlaps = overlappingRuns(file);
      const report = [
        `${KILLS} kills in ${Date.now() - started} ms, ${sim.stats.total} upstream requests, ${sim.store.all().length} jobs upstream`,
        ...kills,
        `checkpoints: ${watched.samples} samples of ${watched.partitions} partitions, ${watched.regressions.length} regressions sampled, ${endRegressions.length} at the end, ${audited.length} among all writes`,
        `outbox: ${finalIds.length} events (${fleetIds.length} written by the fleet); webhook: ${receiver.received.length} requests, ${received.size} distinct ids (${receiver.received.length - received.size} repeats)`,
        `runs of one partition that overlapped: ${overlaps.length}`,
        ...overlaps.slice(0, 10),
        'what the children logged:',
        ...fleet.logSummary().slice(0, 15),
      ].join('\n');
      console.info(report);

      expect
        .soft(diff.length, `mirror vs upstream: ${diff.length} differences\n${shown(diff).join('\n')}`)
        .toBe(0);
      expect
        .soft(problems.length, `outbox: ${problems.length} problems\n${shown(problems).join('\n')}`)
        .toBe(0);
      expect.soft(integrity(file)).toEqual(['ok']);
      expect
        .soft(
          undeliveredByFleet.length,
          `${undeliveredByFleet.length} events the fleet wrote never reached the webhook while it ran: ${shown(undeliveredByFleet).join(', ')}`,
        )
        .toBe(0);
      expect
        .soft(
          undelivered.length,
          `${undelivered.length} outbox events never reached the webhook: ${shown(undelivered).join(', ')}`,
        )
        .toBe(0);
      expect.soft(unknown, 'webhook ids that are not in the outbox').toEqual([]);
      expect
        .soft(
          watched.regressions.length,
          `${watched.regressions.length} checkpoint regressions\n${shown(watched.regressions).join('\n')}\n${overlaps.length} overlapping runs of one partition:\n${shown(overlaps).join('\n')}`,
        )
        .toBe(0);
      expect.soft(endRegressions, 'watermarks below what they had reached').toEqual([]);
      expect
        .soft(
          audited.length,
          `${audited.length} checkpoint writes moved backwards\n${shown(audited).join('\n')}\n${overlaps.length} overlapping runs of one partition:\n${shown(overlaps).join('\n')}`,
        )
        .toBe(0);
      expect.soft(watched.errors, 'checkpoint samples that failed').toEqual([]);
      expect
        .soft(
          stopped.map((r) => r.code),
          `workers stopped by SIGTERM exit 0\n${workerLog}`,
        )
        .toEqual(stopped.map(() => 0));
    },
    BUDGET_MS,
  );
});
