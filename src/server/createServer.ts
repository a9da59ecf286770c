/**
 * The local read API (fastify): the mirror served with Retab's wire format, so an existing Retab client
 * pointed at it reads the mirror; plus stats, an SSE stream of change events, health and metrics.
 * Routes are thin: parse with the shared parsers, call the mirror's query functions, send.
 */
import { STATUS_CODES } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import type { Config } from '../config.ts';
import {
  type ConsoleOptions,
  isConsolePublicPath,
  registerConsole,
  registerSecurityHeaders,
} from '../console/index.ts';
import type { Logger } from '../log.ts';
import type { MirrorStore } from '../mirror/index.ts';
import { errorBody } from '../retab/index.ts';
import { presentedToken, tokenChecker } from './auth.ts';
import { type EventsRouteOptions, registerEventsRoute } from './eventsRoute.ts';
import type { UpstreamPayloads } from './fillPayloads.ts';
import { registerHealthRoute } from './healthRoute.ts';
import { registerJobsRoutes } from './jobsRoutes.ts';
import { registerMetricsRoute } from './metrics.ts';
import { registerStatsRoute } from './statsRoute.ts';

export interface CreateServerOptions {
  /** A connection of its own (ideally read-only): the server's reads then never hold up the sync's writes. */
  mirror: MirrorStore;
  config: Pick<Config, 'serverHost' | 'serverPort' | 'serverToken'>;
  logger?: Logger;
  /** SSE polling and keep-alive intervals. */
  events?: EventsRouteOptions;
  /** Where payloads missing from the mirror are fetched (and stored) when a reader asks for them. */
  upstream?: UpstreamPayloads;
  /** The web console at `/` (its settings, and a writer for its actions). */
  console?: ConsoleOptions;
}

/** Paths served without the token (liveness probes). */
const PUBLIC_PATHS = new Set(['/healthz']);

export function createServer(opts: CreateServerOptions): FastifyInstance {
  const app = Fastify({
    ...(opts.logger
      ? { loggerInstance: opts.logger.child({ scope: 'server' }) as FastifyBaseLogger }
      : { logger: false }),
    // Per-request lines are logged at debug by the onResponse hook below, not at info.
    logController: new LogController({ disableRequestLogging: true }),
    // Paths as the upstream reads them: `/v1/jobs/` is the list; job ids may be long.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 4096 },
    // Every route but the console's two small JSON actions is a GET: refuse larger bodies rather than parse them.
    bodyLimit: 1024,
    // Refusals before routing (a malformed or over-long URL) keep the upstream's error shape, without
    // echoing the oversized input back.
    frameworkErrors: (err, _request, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      (reply as FastifyReply)
        .code(err.statusCode ?? 400)
        .send(
          errorBody(
            tooLong ? 'uri_too_long' : 'bad_request',
            tooLong ? 'A path parameter is too long (a job id has 25 characters).' : 'The URL is not valid.',
          ),
        );
    },
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, code, message]: [number, string, string] =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'request_too_large', 'The request line or headers are too large: shorten the query string.']
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'request_timeout', 'The request did not arrive in time.']
            : [400, 'bad_request', 'Malformed HTTP request.'];
      const body = JSON.stringify(errorBody(code, message));
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(err);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        url: request.url.split('?')[0],
        status: reply.statusCode,
        ms: reply.elapsedTime,
      },
      'request',
    );
  });

  const token = opts.config.serverToken;
  if (token) {
    const check = tokenChecker(token);
    app.addHook('onRequest', async (request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      if (PUBLIC_PATHS.has(path) || isConsolePublicPath(path)) return;
      if (!check(presentedToken(request.headers))) {
        return reply
          .code(401)
          .send(
            errorBody(
              'unauthorized',
              'Missing or invalid token: send it in `Api-Key` or `Authorization: Bearer`',
            ),
          );
      }
    });
  }

  // The upstream's bodies for unknown paths and for writes (the mirror is read-only).
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (/^\/v1\/+jobs(\/|$)/.test(path) && request.method !== 'GET' && request.method !== 'HEAD') {
      return reply.code(405).send({ detail: 'Method Not Allowed' });
    }
    return reply.code(404).send({ detail: 'Not Found' });
  });
  // Client mistakes keep their 4xx; anything else is ours: a 500 that says what failed, never a crash.
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status =
      err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'request failed');
    return reply
      .code(status)
      .send(errorBody(status === 500 ? 'internal_error' : (err.code ?? 'bad_request'), err.message));
  });

  registerSecurityHeaders(app);
  registerJobsRoutes(app, opts.mirror, opts.upstream);
  registerStatsRoute(app, opts.mirror);
  registerEventsRoute(app, opts.mirror, opts.events);
  registerHealthRoute(app, opts.mirror);
  registerMetricsRoute(app, opts.mirror);
  registerConsole(app, opts.mirror, {
    ...opts.console,
    config: { serverToken: opts.config.serverToken, ...opts.console?.config },
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return app;
}

/** Create the server and listen on `config.serverHost` (default 127.0.0.1) : `config.serverPort`. */
export async function startServer(opts: CreateServerOptions): Promise<FastifyInstance> {
  const app = createServer(opts);
  await app.listen({ host: opts.config.serverHost || '127.0.0.1', port: opts.config.serverPort });
  return app;
}
