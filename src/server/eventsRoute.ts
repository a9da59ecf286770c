/**
 * `GET /v1/mirror/events`: the outbox (`job_events`) as Server-Sent Events. Each event is
 * `id: <seq>` / `event: <type>` / `data: <the event as JSON>`, the same `MirrorEvent` shape as a webhook
 * body, a queue job's data and the emitter's payload. The table is polled (the sync may write from
 * another process), so delivery is in `seq` order and a client that reconnects with `Last-Event-ID`
 * resumes exactly after the last event it saw. Without it the stream starts at the current end, unless
 * `?since=<seq>` asks for history (`since=0`: everything). `?type=` (repeatable or comma-joined) filters.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { CONTENT_SECURITY_POLICY } from '../console/index.ts';
import type { MirrorEvent } from '../events/index.ts';
import type { MirrorStore } from '../mirror/index.ts';
import { errorBody, rawQuery } from '../retab/index.ts';

export interface EventsRouteOptions {
  /** How often the outbox is polled, ms. @default 250 */
  pollMs?: number;
  /** Interval of the keep-alive comment, ms. @default 15000 */
  keepAliveMs?: number;
  /** Events read per poll (more are read at once when a batch is full). @default 500 */
  batchSize?: number;
}

function frame(event: MirrorEvent): string {
  // JSON.stringify escapes newlines inside strings, so the event is one `data:` line.
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

function parseSeq(v: string | string[] | undefined): number | undefined | null {
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  if (s === undefined || s.trim() === '') return undefined;
  return /^\d+$/.test(s.trim()) ? Number(s.trim()) : null;
}

export function registerEventsRoute(
  app: FastifyInstance,
  mirror: MirrorStore,
  opts: EventsRouteOptions = {},
): void {
  const pollMs = opts.pollMs ?? 250;
  const keepAliveMs = opts.keepAliveMs ?? 15_000;
  const batchSize = opts.batchSize ?? 500;
  const open = new Set<() => void>();
  // Streams never end on their own: close them before the server waits for its connections.
  app.addHook('preClose', async () => {
    for (const stop of [...open]) stop();
  });

  app.get('/v1/mirror/events', async (request, reply) => {
    const q = rawQuery(request.raw.url ?? '');
    const header = request.headers['last-event-id'];
    const lastEventId = parseSeq(typeof header === 'string' ? header : undefined);
    const since = parseSeq(q.since);
    if (lastEventId === null || since === null) {
      return reply
        .code(422)
        .send(
          errorBody('invalid_request', 'Last-Event-ID and `since` must be event sequence numbers (integers)'),
        );
    }
    const types = [q.type ?? []]
      .flat()
      .flatMap((t) => t.split(','))
      .map((t) => t.trim())
      .filter(Boolean);
    const query = types.length > 0 ? { types } : {};
    let last = lastEventId ?? since ?? (await mirror.outbox.maxSeq());

    reply.hijack();
    const res: ServerResponse = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      // A hijacked reply skips the onSend hook that adds these to every other response.
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.write(`retry: 1000\n: stream from seq ${last}\n\n`);

    let timer: NodeJS.Timeout | undefined;
    let waitingForDrain = false;
    let closed = false;
    const poll = async (): Promise<void> => {
      timer = undefined;
      if (closed || waitingForDrain) return;
      let rows: MirrorEvent[];
      try {
        rows = await mirror.outbox.after(last, batchSize, query);
      } catch (err) {
        request.log.error({ err }, 'events stream: reading the outbox failed');
        stop();
        return;
      }
      if (closed) return;
      let ok = true;
      for (const row of rows) {
        ok = res.write(frame(row));
        last = row.seq;
      }
      if (!ok) {
        waitingForDrain = true;
        res.once('drain', () => {
          waitingForDrain = false;
          schedule(0);
        });
        return;
      }
      schedule(rows.length === batchSize ? 0 : pollMs);
    };
    const schedule = (ms: number): void => {
      if (!closed && timer === undefined) timer = setTimeout(() => void poll(), ms);
    };
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
    const stop = (): void => {
      if (closed) return;
      closed = true;
      open.delete(stop);
      if (timer) clearTimeout(timer);
      clearInterval(keepAlive);
      res.end();
    };
    open.add(stop);
    // The response's `close` (not the request's, which fires once a GET is read) marks a gone client.
    res.on('close', stop);
    void poll();
  });
}
