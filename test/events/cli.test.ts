import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.ts';
import { type MirrorStore, openStore } from '../../src/mirror/index.ts';
import { forEachStore } from '../stores.ts';
import { appendTestEvents as insertEvents, storeOutboxIds as outboxIds, waitFor } from './helpers.ts';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
/** The file's mirror (the tests build on each other's writes) and where it lives, as the CLI's MIRROR_DB. */
let mirror: MirrorStore;
let location: string;
const env = () => ({
  ...process.env,
  MIRROR_DB: location,
  LOG_LEVEL: 'silent',
  WEBHOOKS: '',
  ALERT_RULES: '',
});
const run = (args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: env(), timeout: 30_000 });

/** Run the real command handlers in this process (spawning costs seconds per call under load). */
async function runInProcess(args: string[]): Promise<{ stdout: string; error?: unknown }> {
  const program = buildProgram();
  const saved = { ...process.env };
  Object.assign(process.env, env());
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['node', 'retab-mirror', ...args]);
    return { stdout: chunks.join('') };
  } catch (error) {
    return { stdout: chunks.join(''), error };
  } finally {
    spy.mockRestore();
    process.env = saved;
  }
}

const getCursor = async (sink: string) => (await mirror.cursors.get(sink))?.seq;

forEachStore((store) => {
  // Opened here, not with store.open() (closed after each test): the tests share this mirror.
  beforeAll(async () => {
    location = await store.location();
    mirror = await openStore(location);
    await insertEvents(mirror, 12, (i) => ({
      to: i % 2 === 0 ? 'failed' : 'completed',
      from: 'in_progress',
    }));
    await mirror.deadLetters.record({
      sink: 'ops',
      seq: 3,
      eventId: (await outboxIds(mirror))[2] ?? '',
      attempts: 8,
      lastError: 'webhook ops: answered 500',
    });
  });
  afterAll(() => mirror.close());

  describe('retab-mirror events', () => {
    it('tail --json -n 5 prints the 5 latest events as JSON lines, oldest first', () => {
      const r = run(['events', 'tail', '--json', '-n', '5']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(5);
      const events = lines.map((l) => JSON.parse(l));
      expect(events.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
      expect(events[0]).toMatchObject({
        type: 'job.status_changed',
        from: 'in_progress',
        job: { object: 'job' },
      });
    });

    it('tail filters by --to-status; a bad value is a usage error naming the choices (in-process)', async () => {
      const r = await runInProcess(['events', 'tail', '--to-status', 'failed', '-n', '3']);
      expect(r.error).toBeUndefined();
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      for (const line of lines)
        expect(line).toMatch(/^#\d+ +\S+ +job\.status_changed +job_\S+ +in_progress → failed/);
      const bad = await runInProcess(['events', 'tail', '--to-status', 'done']);
      expect(bad.error).toMatchObject({
        exitCode: 2,
        message: expect.stringContaining('"done" is not one of: validating'),
      });
    });

    it('tail --follow prints events written after it started and stops on SIGINT', async () => {
      const child = spawn(
        process.execPath,
        [bin, 'events', 'tail', '--json', '-n', '1', '--follow', '--interval-ms', '50'],
        {
          env: env(),
        },
      );
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      await waitFor(() => stdout.includes('"seq":12'), 15_000, 'initial line');
      await insertEvents(mirror, 2);
      await waitFor(() => stdout.trim().split('\n').length === 3, 15_000, 'followed lines');
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(
        stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).seq),
      ).toEqual([12, 13, 14]);
    });

    it('failed lists dead letters; replay rewinds a sink; retry needs --id or --all (in-process)', async () => {
      const failed = await runInProcess(['events', 'failed', '--json']);
      expect(JSON.parse(failed.stdout.trim())).toMatchObject({
        sink: 'ops',
        seq: 3,
        attempts: 8,
        resolvedAt: null,
      });
      expect((await runInProcess(['events', 'failed'])).stdout).toMatch(/ID +SINK +SEQ[\s\S]*answered 500/);

      const replay = await runInProcess(['events', 'replay', '--from-seq', '5', '--sink', 'queue']);
      expect(replay.stdout).toContain('queue: cursor set to 4');
      expect(await getCursor('queue')).toBe(4);
      const unknown = await runInProcess(['events', 'replay', '--from-seq', '5', '--sink', 'nope']);
      expect(unknown.error).toMatchObject({
        exitCode: 2,
        message: expect.stringContaining('unknown sink "nope"'),
      });
      // Past the end: the cursor would skip events not written yet. One past the end (skip history) is fine.
      const max = await mirror.outbox.maxSeq();
      const beyond = await runInProcess([
        'events',
        'replay',
        '--from-seq',
        String(max + 100),
        '--sink',
        'queue',
      ]);
      expect(beyond.error).toMatchObject({
        exitCode: 2,
        message: expect.stringContaining(`at most ${max + 1}`),
      });
      expect(await getCursor('queue')).toBe(4);
      const toEnd = await runInProcess([
        'events',
        'replay',
        '--from-seq',
        String(max + 1),
        '--sink',
        'queue',
      ]);
      expect(toEnd.error).toBeUndefined();
      expect(await getCursor('queue')).toBe(max);

      const retry = await runInProcess(['events', 'retry']);
      expect(retry.error).toMatchObject({ exitCode: 2, message: expect.stringContaining('--id N') });
    });
  });
});
