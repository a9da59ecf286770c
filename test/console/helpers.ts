/**
 * A synced mirror for the console tests: the simulator over loopback, one sync pass into a fresh SQLite
 * file (history windows + head + active), a job with hostile strings, a dead letter of a webhook pointed at
 * a local receiver, and the server (read-only connection, writer per action) on a free port. With
 * `opts.store` (test/stores.ts), the same world on that store's location (the mirror seen through the seam).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config.ts';
import { createDispatcher } from '../../src/events/createDispatcher.ts';
import { silentLogger } from '../../src/log.ts';
import { type MirrorStore, openStore } from '../../src/mirror/index.ts';
import type { Mirror } from '../../src/mirror/openMirror.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { createServer } from '../../src/server/createServer.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { lastDays } from '../../src/sync/partitions.ts';
import { syncOnce } from '../../src/sync/syncOnce.ts';
import type { SyncDeps } from '../../src/sync/types.ts';
import type { StoreUnderTest } from '../stores.ts';

export const HOSTILE_FILENAME = '<img src=x onerror=alert(1)>.pdf';
export const HOSTILE_ERROR = '<b onmouseover=alert(3)>HTTP 500</b>';
export const TOKEN = 'console-test-token';

export interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** `M`: the SQLite `Mirror` by default; any `MirrorStore` when the world was built on `opts.store`. */
export interface ConsoleWorld<M extends MirrorStore = Mirror> {
  sim: Simulator;
  mirror: M;
  reader: M;
  /** MIRROR_DB: the file, or the store's location. */
  path: string;
  app: FastifyInstance;
  base: string;
  deps: SyncDeps;
  config: Config;
  hostileJobId: string;
  deadLetterId: number;
  /** The event the dead letter holds (what a retry sends). */
  deadLetterEventId: string;
  received: Received[];
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface ConsoleWorldOptions {
  /** MIRROR_API_TOKEN of the server; null for none. @default TOKEN */
  token?: string | null;
  jobs?: number;
  /** Build it on this store's location instead of a new SQLite file. */
  store?: StoreUnderTest;
}

export const SYNC = {
  pageSize: 100,
  payloadMode: 'request' as const,
  overlapSeconds: 300,
  backfillDays: 14,
  activeStatuses: ['validating', 'queued', 'in_progress'] as ('validating' | 'queued' | 'in_progress')[],
};

export async function consoleWorld(opts?: ConsoleWorldOptions & { store?: undefined }): Promise<ConsoleWorld>;
export async function consoleWorld(
  opts: ConsoleWorldOptions & { store: StoreUnderTest },
): Promise<ConsoleWorld<MirrorStore>>;
export async function consoleWorld(opts: ConsoleWorldOptions = {}): Promise<ConsoleWorld<MirrorStore>> {
  const received: Received[] = [];
  const receiver: Server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook?secret=not-shown`;

  const sim = await startSimulator({ seed: 5, jobs: opts.jobs ?? 400, days: 13, now: Date.now() });
  const hostile = sim.store.create({
    endpoint: '/v1/documents/extract',
    request: { model: 'gpt-4.1', document: { filename: HOSTILE_FILENAME, url: 'https://example.test/x' } },
    metadata: { batch_id: '<script>alert(2)</script>' },
  });
  const token = opts.token === undefined ? TOKEN : opts.token;
  const dir = mkdtempSync(join(tmpdir(), 'retab-console-'));
  const path = opts.store ? await opts.store.location() : join(dir, 'mirror.db');
  const mirror = await openStore(path);
  const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: sim.url, maxRetries: 1 });
  const deps: SyncDeps = { client, mirror, logger: silentLogger, now: () => sim.clock.now() };
  const sync = async () => {
    const r = await syncOnce(deps, SYNC);
    if (r.outcome !== 'success') throw new Error(`sync failed: ${r.error}`);
  };
  const first = await syncOnce(deps, { ...SYNC, windowDays: lastDays(sim.clock.now(), 14) });
  if (first.outcome !== 'success') throw new Error(`sync failed: ${first.error}`);

  const config = {
    serverHost: '127.0.0.1',
    serverPort: 0,
    ...(token ? { serverToken: token } : {}),
    webhooks: [{ name: 'ops', url: receiverUrl }],
    webhookSecret: 'whsec-test',
    alertRules: [
      { name: 'any-failure', when: { type: ['job.status_changed'], to: ['failed'] }, sinks: ['ops'] },
    ],
    eventsQueue: 'events',
    eventsQueueEnabled: false,
    queuePrefix: 'console-test',
    headEveryMs: 1000,
    activeEveryMs: 300,
    hydrateEveryMs: 5000,
  } as unknown as Config;
  // Deliver the backfill once, so the sinks have cursors (rules route no backfill event to the webhook).
  const dispatcher = createDispatcher({ mirror, config, logger: silentLogger, redis: null, log: false });
  dispatcher.start();
  await dispatcher.drain();
  await dispatcher.stop();

  const event = (await mirror.outbox.last(1, { types: ['job.discovered'] }))[0];
  if (!event) throw new Error('the sync wrote no job.discovered event');
  await mirror.deadLetters.record({
    sink: 'ops',
    seq: event.seq,
    eventId: event.eventId,
    attempts: 5,
    lastError: HOSTILE_ERROR,
  });
  const deadLetterId = Math.max(...(await mirror.deadLetters.list()).map((d) => d.id));

  const reader = await openStore(path, { readonly: true });
  const app = createServer({
    mirror: reader,
    config,
    events: { pollMs: 100 },
    console: { config, openWriter: () => openStore(path), redis: false },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    sim,
    mirror,
    reader,
    path,
    app,
    base,
    deps,
    config,
    hostileJobId: hostile.id,
    deadLetterId,
    deadLetterEventId: event.eventId,
    received,
    sync,
    async close() {
      await app.close();
      await reader.close();
      await mirror.close();
      await sim.close();
      await new Promise<void>((r) => receiver.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
