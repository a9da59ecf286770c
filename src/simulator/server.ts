/**
 * The simulator's HTTP shell (node:http, for byte-level control over faults such as resets and truncated
 * bodies): logs each request, applies the scheduled fault, checks the `Api-Key`, calls the route.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sleep } from '../backoff.ts';
import { type EnvelopeStyle, errorBody, queryRecord } from '../retab/index.ts';
import type { LifecycleClock } from './clock.ts';
import { type FaultInjector, type FaultKind, type Malformation, malform } from './faults.ts';
import { type Answer, flatQuery, readJson, sendJson, sendRaw } from './http.ts';
import type { JobIndex } from './jobIndex.ts';
import {
  cancelRoute,
  createRoute,
  invalidCursor,
  listRoute,
  retrieveRoute,
  retryRoute,
} from './jobRoutes.ts';
import { type ControlDeps, handleControl } from './simRoutes.ts';
import type { RequestRecord, RequestStats, Route } from './stats.ts';
import type { SimStore } from './store.ts';

export interface ServerDeps extends ControlDeps {
  index: JobIndex;
  store: SimStore;
  clock: LifecycleClock;
  faults: FaultInjector;
  stats: RequestStats;
  apiKey: string;
  /** The list envelope spoken. @default 'both' */
  envelope?: EnvelopeStyle;
  /** Delay before every `/v1` answer, ms (SimulatorOptions.latencyMs). @default 0 */
  latencyMs?: number;
}

interface Matched {
  route: Route | 'other';
  id?: string;
  allowed: boolean;
}

/** Like Python's `unquote` (what the upstream's server uses): a malformed escape stays as written, no error. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function match(method: string, path: string): Matched {
  const parts = path.split('/').filter((s) => s !== '');
  if (parts[0] !== 'v1' || parts[1] !== 'jobs') return { route: 'other', allowed: true };
  const id = parts[2] === undefined ? undefined : decodeSegment(parts[2]);
  if (parts.length === 2) {
    return { route: method === 'POST' ? 'create' : 'list', allowed: method === 'GET' || method === 'POST' };
  }
  if (parts.length === 3) return { route: 'retrieve', ...(id ? { id } : {}), allowed: method === 'GET' };
  if (parts.length === 4 && (parts[3] === 'cancel' || parts[3] === 'retry')) {
    return { route: parts[3], ...(id ? { id } : {}), allowed: method === 'POST' };
  }
  return { route: 'other', allowed: true };
}

function keyMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const UNAUTHORIZED = errorBody(
  'unauthorized',
  'Missing or invalid Api-Key header. Send your Retab API key as `Api-Key: <key>`.',
);

export function createSimulatorServer(deps: ServerDeps): Server {
  const server = createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, errorBody('internal_error', `simulator bug: ${(err as Error)?.message ?? err}`));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  return server;
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.setHeader('x-request-id', `req_${randomBytes(12).toString('base64url')}`);
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  if (url.pathname.startsWith('/_sim/')) return handleControl(deps, req, res, url);
  // Before the clock is read: the answer reflects upstream's state when the request got there.
  if (deps.latencyMs) await sleep(deps.latencyMs);

  deps.clock.sync();
  // The simulated clock is upstream's clock: its `Date` header says so (tests skew it against the machine's).
  res.setHeader('date', new Date(deps.clock.now()).toUTCString());
  const m = match(method, url.pathname);
  const rec = deps.stats.arrive(method, m.route, url.pathname, flatQuery(url.searchParams));
  let body: unknown;
  if (method === 'POST') {
    try {
      body = await readJson(req);
    } catch (err) {
      return answer(res, rec, {
        status: 422,
        body: {
          detail: [
            { type: 'json_invalid', loc: ['body'], msg: `JSON decode error: ${(err as Error).message}` },
          ],
        },
      });
    }
  }
  if (m.route === 'other') return answer(res, rec, { status: 404, body: { detail: 'Not Found' } });
  if (!m.allowed) return answer(res, rec, { status: 405, body: { detail: 'Method Not Allowed' } });

  const fault = deps.faults.next(m.route);
  if (fault !== undefined && fault !== 'cursor_reject') rec.fault = fault;
  switch (fault) {
    case 'reset':
      rec.status = 0;
      req.socket.destroy();
      return;
    case 'slow':
      await sleep(deps.faults.slowMs);
      deps.clock.sync();
      break;
    case 'http429': {
      const custom = deps.faults.retryAfterHeaders;
      const seconds = custom ? waitOf(custom) : deps.faults.retryAfterSeconds;
      deps.stats.retryAfterSent(rec, seconds);
      const message = `Rate limit exceeded. Retry after ${seconds} seconds.`;
      return answer(res, rec, {
        status: 429,
        body: errorBody('rate_limited', message),
        headers: custom ?? { 'retry-after': String(seconds) },
      });
    }
    case 'http500':
      return answer(res, rec, { status: 500, body: errorBody('internal_error', 'Internal server error.') });
    case 'http502':
      rec.status = 502;
      return sendRaw(res, 502, '<html><body><h1>502 Bad Gateway</h1></body></html>', {}, 'text/html');
    case 'http503':
      return answer(res, rec, { status: 503, body: { detail: 'Service temporarily unavailable' } });
    case 'cursor_reject':
      if (m.route === 'list') {
        rec.fault = fault;
        const param = url.searchParams.has('before') ? 'before' : 'after';
        return answer(res, rec, invalidCursor(param, url.searchParams.get(param) ?? ''));
      }
      break;
    default:
      break;
  }

  if (!keyMatches(req.headers['api-key'], deps.apiKey))
    return answer(res, rec, { status: 401, body: UNAUTHORIZED });

  const query = queryRecord(url.searchParams);
  const id = m.id ?? '';
  let out: Answer;
  if (m.route === 'list') out = listRoute(deps.index, deps.store.organizationId, query, deps.envelope);
  else if (m.route === 'retrieve') out = retrieveRoute(deps.store, id, query);
  else if (m.route === 'create') out = createRoute(deps.store, body);
  else if (m.route === 'cancel') out = cancelRoute(deps.store, id);
  else out = retryRoute(deps.store, id);
  answer(res, rec, out, fault, fault === 'malformed_item' ? deps.faults.nextMalformation() : undefined);
}

/** The wait (seconds) that custom Retry-After headers plainly ask for; 0 for a date or garbage. */
function waitOf(headers: Record<string, string>): number {
  const ms = Number(headers['retry-after-ms']);
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const s = Number(headers['retry-after']);
  return Number.isFinite(s) && s >= 0 ? s : 0;
}

/** Sends an answer, applying a body-level fault (truncated, invalid JSON, malformed item) if one is due. */
function answer(
  res: ServerResponse,
  rec: RequestRecord,
  out: Answer,
  fault?: FaultKind,
  how?: Malformation,
): void {
  rec.status = out.status;
  if (fault === 'malformed_item' && out.status === 200) {
    const body = out.body as { object?: string; data?: Record<string, unknown>[] };
    const target = body.object === 'list' ? body.data?.[Math.floor((body.data.length - 1) / 2)] : body;
    if (target && how) malform(target as Record<string, unknown>, how);
  }
  if (fault === 'truncated') {
    const text = JSON.stringify(out.body);
    sendRaw(res, out.status, text.slice(0, Math.max(1, Math.floor(text.length / 2))), out.headers);
    return;
  }
  if (fault === 'invalid_json') {
    sendRaw(res, out.status, `{"object": "list", "data": [{"id": 'job_', NaN}`, out.headers);
    return;
  }
  sendJson(res, out.status, out.body, out.headers);
}
