/** The `/v1/jobs` routes as plain functions from parsed input to an HTTP answer (status + JSON body). */
import { type EnvelopeStyle, errorBody, listBody, parseListQuery } from '../retab/index.ts';
import { notFound, SimulatorError } from './errors.ts';
import type { Answer } from './http.ts';
import type { JobIndex } from './jobIndex.ts';
import { listJobs } from './listJobs.ts';
import { toJob } from './simJob.ts';
import type { CreateJobInput, SimStore } from './store.ts';

export function invalidCursor(param: string, cursor: string): Answer {
  return {
    status: 400,
    body: errorBody(
      'invalid_cursor',
      `\`${param}\` is not the id of an existing job: ${cursor}. Restart the listing without a cursor.`,
      {
        param,
        cursor,
      },
    ),
  };
}

export function listRoute(
  index: JobIndex,
  organizationId: string,
  query: Record<string, string | string[]>,
  envelope: EnvelopeStyle = 'both',
): Answer {
  const parsed = parseListQuery(query);
  if (!parsed.ok) return { status: parsed.status, body: parsed.body };
  const p = parsed.params;
  const out = listJobs(index, p);
  if (!out.ok) return invalidCursor(out.param, out.cursor);
  const include = { includeRequest: p.include_request, includeResponse: p.include_response };
  const data = out.items.map((rec) => toJob(rec, organizationId, include));
  const ends = { hasMore: out.hasMore, hasBehind: out.hasBehind, backward: p.before !== undefined };
  return { status: 200, body: listBody(data, ends, envelope) };
}

export function retrieveRoute(store: SimStore, id: string, query: Record<string, string | string[]>): Answer {
  // Only the include flags apply here; they parse (and fail) exactly as on the list.
  const flags: Record<string, string | string[]> = {};
  for (const k of ['include_request', 'include_response'] as const) {
    const v = query[k];
    if (v !== undefined) flags[k] = v;
  }
  if (flags.include_response !== undefined) flags.limit = '1';
  const parsed = parseListQuery(flags);
  if (!parsed.ok) return { status: parsed.status, body: parsed.body };
  const job = store.get(id, {
    includeRequest: parsed.params.include_request,
    includeResponse: parsed.params.include_response,
  });
  if (!job) return fromError(notFound(id));
  return { status: 200, body: job };
}

export function createRoute(store: SimStore, body: unknown): Answer {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return {
      status: 422,
      body: {
        detail: [
          { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a JSON object', input: body },
        ],
      },
    };
  }
  return attempt(() => ({ status: 200, body: store.create(body as CreateJobInput) }));
}

export function cancelRoute(store: SimStore, id: string): Answer {
  return attempt(() => ({ status: 200, body: store.cancel(id) }));
}

export function retryRoute(store: SimStore, id: string): Answer {
  return attempt(() => ({ status: 200, body: store.retry(id) }));
}

function attempt(fn: () => Answer): Answer {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SimulatorError) return fromError(err);
    throw err;
  }
}

function fromError(err: SimulatorError): Answer {
  return { status: err.status, body: err.body };
}
