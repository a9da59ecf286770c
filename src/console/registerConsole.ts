/**
 * The web console: the built front end (`web/dist`, committed, so no build step is needed to run it) at
 * `/`, and the JSON it reads under `/console/api/`. The job list, a job and the live stream use the
 * public routes (`/v1/jobs`, `/v1/mirror/events`). Reads follow the server's token rule; the two actions
 * (resend a dead letter, replay a sink) exist only when `MIRROR_API_TOKEN` is set, and are POSTs with the
 * CSRF defences of `security.ts`, logged with their outcome.
 */
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';
import {
  CSV_HEADER,
  csvLine,
  errorBody,
  InvalidCursorError,
  jsonJob,
  parseListQuery,
  rawQuery,
} from '../retab/index.ts';
import { type ActionDeps, ActionError, replaySink, retryDeadLetter } from './actions.ts';
import { computeAlertsView } from './alertsView.ts';
import { JobColumns } from './jobColumns.ts';
import { readJobTimeline } from './jobTimeline.ts';
import { computeOverview, metadataMask } from './overview.ts';
import { crossSiteReason } from './security.ts';
import { computeSyncView } from './syncView.ts';

export const WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export type ConsoleConfig = Partial<
  Pick<
    Config,
    | 'serverToken'
    | 'alertRules'
    | 'webhooks'
    | 'webhookSecret'
    | 'headEveryMs'
    | 'activeEveryMs'
    | 'hydrateEveryMs'
    | 'redisUrl'
    | 'queuePrefix'
    | 'dbPath'
  >
>;

export interface ConsoleOptions {
  config?: ConsoleConfig;
  /** A writable connection for one action (closed after it); without it the console is read-only. */
  openWriter?: ActionDeps['openWriter'];
  /** Show the job schedulers from Redis on the Sync page. @default true when `config.redisUrl` is set */
  redis?: boolean;
  logger?: Logger;
}

/** Paths the console serves without the token: the page itself must load to ask for it. */
export function isConsolePublicPath(path: string): boolean {
  return (
    path === '/' || path === '/index.html' || path.startsWith('/assets/') || path === '/console/api/session'
  );
}

const DAY = 86_400;
const isDay = (s: string | undefined): s is string =>
  s !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s));
const last = (v: string | string[] | undefined) => (Array.isArray(v) ? v[v.length - 1] : v);

/** `from`/`to` (UTC days, inclusive) as unix seconds [from, to); the last 14 days by default. */
function parseRange(
  q: Record<string, string | string[]>,
  now = Date.now(),
): { from: number; to: number } | string {
  const f = last(q.from);
  const t = last(q.to);
  if ((f !== undefined && f !== '' && !isDay(f)) || (t !== undefined && t !== '' && !isDay(t))) {
    return '`from` and `to` must be UTC days, YYYY-MM-DD';
  }
  const today = Math.floor(now / 1000 / DAY) * DAY;
  const to = isDay(t) ? Date.parse(t) / 1000 + DAY : today + DAY;
  const from = isDay(f) ? Date.parse(f) / 1000 : to - 14 * DAY;
  if (from >= to) return '`from` must be on or before `to`';
  if (to - from > 400 * DAY) return 'choose at most 400 days';
  return { from, to };
}

function metadataPairs(q: Record<string, string | string[]>): [string, string][] | string {
  const raw = [q.meta ?? []].flat().filter((s) => s !== '');
  const pairs: [string, string][] = [];
  for (const s of raw) {
    const i = s.indexOf('=');
    if (i <= 0) return `metadata filter "${s}" must be key=value`;
    pairs.push([s.slice(0, i), s.slice(i + 1)]);
  }
  return pairs;
}

const invalid = (reply: FastifyReply, message: string) =>
  reply.code(422).send(errorBody('invalid_request', message));

export function registerConsole(app: FastifyInstance, mirror: MirrorStore, opts: ConsoleOptions = {}): void {
  const config = opts.config ?? {};
  const actionsEnabled = Boolean(config.serverToken) && opts.openWriter !== undefined;
  let columns: JobColumns | undefined;
  const cols = async () => {
    columns ??= new JobColumns(mirror);
    await columns.ready;
    await columns.refresh();
    return columns;
  };
  // Start loading the columns with the server, so the first overview does not wait for the whole table.
  app.addHook('onReady', async () => {
    columns ??= new JobColumns(mirror);
    columns.ready.catch((err: unknown) =>
      opts.logger?.warn({ err }, 'console: loading the job columns failed'),
    );
  });
  app.addHook('onClose', async () => columns?.close());

  if (existsSync(WEB_ROOT)) {
    app.register(fastifyStatic, {
      root: WEB_ROOT,
      wildcard: false,
      index: 'index.html',
      maxAge: '1h',
      // The page names its content-hashed assets: a cached copy would, after an upgrade, ask for files that
      // are gone (a blank console for up to an hour). It is revalidated (ETag) on every load instead.
      setHeaders: (reply, path) => {
        if (path.endsWith('.html')) reply.header('cache-control', 'no-cache');
      },
    });
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send('The console is not built: run `npm run build:web`.'),
    );
  }

  app.get('/console/api/session', async () => ({
    tokenRequired: Boolean(config.serverToken),
    actions: actionsEnabled,
  }));

  app.get('/console/api/overview', async (request, reply) => {
    const q = rawQuery(request.raw.url ?? '');
    const range = parseRange(q);
    if (typeof range === 'string') return invalid(reply, range);
    const pairs = metadataPairs(q);
    if (typeof pairs === 'string') return invalid(reply, pairs);
    const c = await cols();
    const opt = (k: string) => {
      const v = last(q[k]);
      return v === undefined || v === '' ? undefined : v;
    };
    const endpoint = opt('endpoint');
    const source = opt('source');
    const model = opt('model');
    return computeOverview(c, {
      ...range,
      ...(endpoint ? { endpoint } : {}),
      ...(source ? { source } : {}),
      ...(model ? { model } : {}),
      ...(pairs.length > 0 ? { allow: await metadataMask(mirror, pairs, c.size) } : {}),
    });
  });

  app.get('/console/api/sync', async (request, reply) => {
    const q = rawQuery(request.raw.url ?? '');
    const now = Date.now();
    // The upstream chart defaults to the last 24 hours (runs are many: ~30k a day with the default schedule).
    let from = Math.floor(now / 1000) - DAY;
    let to = Math.floor(now / 1000) + 1;
    if (last(q.from) || last(q.to)) {
      const range = parseRange(q, now);
      if (typeof range === 'string') return invalid(reply, range);
      ({ from, to } = range);
    }
    return computeSyncView(mirror, {
      from,
      to,
      now,
      schedule: {
        active: config.activeEveryMs ?? 10_000,
        head: config.headEveryMs ?? 30_000,
        hydrate: config.hydrateEveryMs ?? 60_000,
      },
    });
  });

  app.get('/console/api/schedulers', async () => {
    if (opts.redis === false || !config.redisUrl)
      return { redis: { reachable: false, error: 'not configured' } };
    const { collectStatus } = await import('../queue/index.ts');
    const report = await collectStatus({
      config: {
        dbPath: config.dbPath ?? '',
        redisUrl: config.redisUrl,
        queuePrefix: config.queuePrefix ?? 'retab-mirror',
      },
      mirror,
      redisTimeoutMs: 1000,
    });
    return { redis: report.redis, schedulers: report.schedulers ?? [], queue: report.queue ?? null };
  });

  app.get('/console/api/alerts', async () => computeAlertsView(mirror, config));

  app.get<{ Params: { id: string } }>('/console/api/jobs/:id/timeline', async (request, reply) => {
    const t = await readJobTimeline(mirror, request.params.id);
    if (!t) return reply.code(404).send(errorBody('not_found', `No job with id ${request.params.id}.`));
    return t;
  });

  // The current filter of the job list as a file: every matching job, paged through the same query the list
  // uses (one short read per 200 jobs, so other requests are served in between).
  app.get('/console/api/export', async (request, reply) => {
    const q = rawQuery(request.raw.url ?? '');
    const format = last(q.format) ?? 'csv';
    if (format !== 'csv' && format !== 'jsonl') return invalid(reply, '`format` must be csv or jsonl');
    const { limit: _l, after: _a, before: _b, format: _f, include_response: _r, ...filters } = q;
    const parsed = parseListQuery({
      ...filters,
      limit: '100',
      include_request: format === 'csv' ? 'true' : 'false',
    });
    if (!parsed.ok) return reply.code(parsed.status).send(parsed.body);
    const params = parsed.params;
    try {
      await mirror.jobs.query({ ...params, limit: 1 });
    } catch (err) {
      if (err instanceof InvalidCursorError) return reply.code(err.status ?? 400).send(err.body);
      throw err;
    }
    async function* lines(): AsyncGenerator<string> {
      if (format === 'csv') yield `${CSV_HEADER.join(',')}\r\n`;
      let after: string | undefined;
      for (;;) {
        const page = await mirror.jobs.query({ ...params, ...(after ? { after } : {}) });
        yield page.data
          .map((job) => (format === 'csv' ? csvLine(job) : `${JSON.stringify(jsonJob(job, {}))}\n`))
          .join('');
        if (!page.has_more || !page.last_id) return;
        after = page.last_id;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    return reply
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="jobs.${format}"`)
      .send(Readable.from(lines()));
  });

  const guardAction = (request: Parameters<typeof crossSiteReason>[0], reply: FastifyReply): boolean => {
    if (!actionsEnabled) {
      reply
        .code(403)
        .send(
          errorBody(
            'read_only',
            'The console is read-only: set MIRROR_API_TOKEN to enable retry and replay.',
          ),
        );
      return false;
    }
    const why = crossSiteReason(request);
    if (why) {
      request.log.warn({ why }, 'console action refused');
      reply.code(403).send(errorBody('forbidden', why));
      return false;
    }
    return true;
  };
  const actionDeps = () => ({
    openWriter: opts.openWriter as ActionDeps['openWriter'],
    config,
    ...(opts.logger ? { logger: opts.logger.child({ scope: 'console' }) } : {}),
  });
  const sendActionError = (reply: FastifyReply, err: unknown) => {
    if (err instanceof ActionError) return reply.code(err.statusCode).send(errorBody(err.code, err.message));
    throw err;
  };

  app.post<{ Params: { id: string } }>('/console/api/dead-letters/:id/retry', async (request, reply) => {
    if (!guardAction(request, reply)) return reply;
    const id = Number(request.params.id);
    if (!Number.isInteger(id) || id < 1) return invalid(reply, 'a dead letter id is an integer >= 1');
    try {
      const result = await retryDeadLetter(actionDeps(), id);
      request.log.info({ action: 'retry', id, ok: result.ok, error: result.error }, 'console action');
      return result;
    } catch (err) {
      return sendActionError(reply, err);
    }
  });

  app.post<{ Params: { sink: string }; Body: { fromSeq?: unknown } }>(
    '/console/api/sinks/:sink/replay',
    async (request, reply) => {
      if (!guardAction(request, reply)) return reply;
      const fromSeq = Number(request.body?.fromSeq);
      try {
        const result = await replaySink(actionDeps(), request.params.sink, fromSeq);
        request.log.info({ action: 'replay', ...result, fromSeq }, 'console action');
        return result;
      } catch (err) {
        return sendActionError(reply, err);
      }
    },
  );
}
