/** Test fixtures for events: a temp mirror file, outbox rows written like applyPage writes them, a webhook receiver. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { type Mirror, openMirror } from '../../src/mirror/openMirror.ts';
import { eventWriter } from '../../src/mirror/outbox.ts';
import { appendEvents, type NewEvent } from '../../src/mirror/pg/appendEvents.ts';
import { PgStore } from '../../src/mirror/pg/pgStore.ts';
import { inTransaction } from '../../src/mirror/pg/transaction.ts';
import { SqliteStore } from '../../src/mirror/sqlite/sqliteStore.ts';
import type { EventType } from '../../src/mirror/types.ts';
import type { Job, JobStatus } from '../../src/retab/schemas.ts';

export interface TempMirror {
  mirror: Mirror;
  path: string;
  dir: string;
  reopen(): Mirror;
  cleanup(): void;
}

export function tempMirror(): TempMirror {
  const dir = mkdtempSync(join(tmpdir(), 'retab-events-'));
  const path = join(dir, 'mirror.db');
  const opened: Mirror[] = [];
  const open = () => {
    const m = openMirror(path);
    opened.push(m);
    return m;
  };
  return {
    mirror: open(),
    path,
    dir,
    reopen: open,
    cleanup() {
      for (const m of opened) m.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function makeJob(i: number, status: JobStatus, over: Partial<Job> = {}): Job {
  const created = 1_780_000_000 + i;
  return {
    id: `job_test${String(i).padStart(17, '0')}`,
    object: 'job',
    status,
    endpoint: '/v1/documents/extract',
    request: null,
    response: null,
    error: status === 'failed' ? { code: 'extraction_failed', message: 'boom' } : null,
    created_at: created,
    started_at: null,
    completed_at: null,
    expires_at: created + 7 * 86_400,
    organization_id: 'org_test',
    metadata: null,
    ...over,
  };
}

export interface EventSpec {
  type?: EventType;
  from?: JobStatus | null;
  to?: JobStatus | null;
  backfill?: boolean;
  inferred?: boolean;
  job?: Partial<Job>;
}

const CYCLE: [JobStatus, JobStatus][] = [
  ['queued', 'in_progress'],
  ['in_progress', 'completed'],
  ['in_progress', 'failed'],
];

let counter = 0;

/**
 * Append `n` outbox rows in one transaction, as applyPage does (same writer, same payload shape).
 * `spec(i)` customizes row i; by default rows are live status changes cycling through CYCLE.
 */
export function insertEvents(mirror: Mirror, n: number, spec: (i: number) => EventSpec = () => ({})): void {
  const write = eventWriter(mirror);
  mirror.sqlite.transaction(() => {
    for (const e of eventsToWrite(n, spec))
      write(
        e.jobId,
        e.type,
        e.from,
        e.to,
        e.occurredAt,
        e.observedAt,
        e.inferred,
        e.backfill,
        e.snapshotJson,
      );
  })();
}

function eventsToWrite(n: number, spec: (i: number) => EventSpec): NewEvent[] {
  const out: NewEvent[] = [];
  for (let i = 0; i < n; i++) {
    const k = ++counter;
    const s = spec(i);
    const [defFrom, defTo] = CYCLE[k % CYCLE.length] as [JobStatus, JobStatus];
    const type = s.type ?? 'job.status_changed';
    const from = s.from !== undefined ? s.from : type === 'job.discovered' ? null : defFrom;
    const to = s.to !== undefined ? s.to : defTo;
    const job = makeJob(k, to ?? 'queued', s.job);
    out.push({
      jobId: job.id,
      type,
      from,
      to,
      occurredAt: 1_780_000_000_000 + k,
      observedAt: 1_780_000_000_500 + k,
      inferred: s.inferred ?? false,
      backfill: s.backfill ?? false,
      snapshotJson: JSON.stringify(job),
    });
  }
  return out;
}

/**
 * `insertEvents` on any store (test/stores.ts): the same rows in one transaction, through each store's own
 * outbox writer (SQLite's `eventWriter`, PostgreSQL's `appendEvents`).
 */
export async function appendTestEvents(
  store: MirrorStore,
  n: number,
  spec: (i: number) => EventSpec = () => ({}),
): Promise<void> {
  if (store instanceof SqliteStore) return insertEvents(store, n, spec);
  if (!(store instanceof PgStore)) throw new Error(`appendTestEvents: unknown store ${store.kind}`);
  const events = eventsToWrite(n, spec);
  await inTransaction(store.mirror.pool, (c) => appendEvents(c, events));
}

/** Every outbox event id, in seq order (any store). */
export async function storeOutboxIds(store: MirrorStore): Promise<string[]> {
  return (await store.outbox.after(0, 1_000_000)).map((e) => e.eventId);
}

export function outboxIds(mirror: Mirror): string[] {
  return (
    mirror.sqlite.prepare('SELECT event_id FROM job_events ORDER BY seq').all() as { event_id: string }[]
  ).map((r) => r.event_id);
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  event: { seq: number; eventId: string; type: string; jobId: string };
  /** The status the receiver answered. */
  answered: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status to answer with (default 204), unless `respond` decides. */
  status: number;
  /** Per-request answer: called with the request and the earlier requests of the same event id. */
  respond?: (r: Received, earlier: Received[]) => number;
  close(): Promise<void>;
}

/** A real HTTP webhook receiver on 127.0.0.1 that records every request. */
export async function startReceiver(): Promise<Receiver> {
  const r: Receiver = { url: '', received: [], status: 204, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const got: Received = { headers: req.headers, body, event: JSON.parse(body), answered: r.status };
      if (r.respond) {
        const earlier = r.received.filter((x) => x.event.eventId === got.event.eventId);
        got.answered = r.respond(got, earlier);
      }
      r.received.push(got);
      res.writeHead(got.answered, { 'content-type': 'text/plain' });
      res.end(got.answered >= 400 ? 'receiver says no' : '');
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

/** Poll until `check()` is truthy (real asynchronous work: queues, HTTP), failing after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
