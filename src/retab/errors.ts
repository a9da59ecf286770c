/**
 * Typed errors of the Retab client: one class per HTTP status family (the openai-node model), so callers
 * branch with `instanceof` instead of status arithmetic, plus the transport failures (connection, timeout,
 * unusable body) and the client-side checks. `retryable` is decided once, here, from the status: the retry
 * loop in `retry.ts` only reads it.
 */
import { STATUS_CODES } from 'node:http';

/** Root of every error this client throws, so a caller can catch "anything from Retab" in one branch. */
export class RetabError extends Error {
  override name = 'RetabError';
}

export interface RetabApiErrorInit {
  status?: number | undefined;
  code?: string | null | undefined;
  details?: unknown;
  requestId?: string | null | undefined;
  retryable?: boolean | undefined;
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/** A failed call to the upstream: an HTTP error status, or no usable answer at all. */
export class RetabApiError extends RetabError {
  override name = 'RetabApiError';
  /** HTTP status; undefined when no response arrived (connection failure, timeout). */
  readonly status: number | undefined;
  /** Retab's machine-readable code (`detail.code`), e.g. `invalid_cursor`; null when the body had none. */
  readonly code: string | null;
  /** `detail.details`, or the 422 validation list. */
  readonly details: unknown;
  /** The `x-request-id` response header: quote it when reporting a problem upstream. */
  readonly requestId: string | null;
  /** Whether sending the same request again may succeed (408, 409, 429, 5xx, transport failures). */
  readonly retryable: boolean;
  /** What the server asked us to wait (`Retry-After` / `retry-after-ms`), when it said. */
  readonly retryAfterMs: number | undefined;
  /** HTTP attempts made for this call when it failed (set by the retry loop). */
  attempts = 1;

  constructor(message: string, init: RetabApiErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code ?? null;
    this.details = init.details;
    this.requestId = init.requestId ?? null;
    this.retryable = init.retryable ?? (init.status !== undefined && isRetryableStatus(init.status));
    this.retryAfterMs = init.retryAfterMs;
  }
}

export class BadRequestError extends RetabApiError {
  override name = 'BadRequestError';
}
/**
 * Retab's error body (DESIGN §1: `{"detail":{code,message,details}}`), as the local server and the simulator
 * answer it, so a Retab client reads their errors as it reads Retab's. `parseErrorBody` reads it back.
 */
export interface ErrorBody {
  detail: { code: string; message: string; details: Record<string, unknown> };
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { detail: { code, message, details } };
}

/** The 404 of `GET /v1/jobs/{id}` for an id that names no job (upstream's words). */
export function jobNotFound(id: string): ErrorBody {
  return errorBody('not_found', `No job with id ${id}.`, { id });
}

/**
 * 400 `invalid_cursor`: a `before`/`after` cursor names no job. Thrown by the client (the cursor job no
 * longer exists upstream; restart the walk from a watermark) and by the mirror's `queryJobs` (the mirror
 * answers like upstream): one class, so `instanceof` holds for a library user whichever threw it.
 */
export class InvalidCursorError extends BadRequestError {
  override name = 'InvalidCursorError';

  /** The error `queryJobs` throws for a cursor that names no mirrored job; `details` is `{ param, cursor }`. */
  static unknownCursor(param: 'before' | 'after', cursor: string): InvalidCursorError {
    return new InvalidCursorError(
      `\`${param}\` is not the id of an existing job: ${cursor}. Restart the listing without a cursor.`,
      { status: 400, code: 'invalid_cursor', details: { param, cursor } },
    );
  }

  /** The upstream's error body for this error (what the mirror's server answers). */
  get body(): ErrorBody {
    return errorBody('invalid_cursor', this.message, this.details as Record<string, unknown>);
  }
}
export class AuthenticationError extends RetabApiError {
  override name = 'AuthenticationError';
}
export class PermissionDeniedError extends RetabApiError {
  override name = 'PermissionDeniedError';
}
export class NotFoundError extends RetabApiError {
  override name = 'NotFoundError';
}
export class UnprocessableEntityError extends RetabApiError {
  override name = 'UnprocessableEntityError';
  /** The offending parameter names, from the validation list's `loc`. */
  readonly params: string[];
  constructor(message: string, init: RetabApiErrorInit & { params?: string[] } = {}) {
    super(message, init);
    this.params = init.params ?? [];
  }
}
export class RateLimitError extends RetabApiError {
  override name = 'RateLimitError';
}
export class InternalServerError extends RetabApiError {
  override name = 'InternalServerError';
}
/** The connection failed or was reset before a full answer arrived. Always retryable. */
export class ConnectionError extends RetabApiError {
  override name = 'ConnectionError';
  constructor(message: string, init: RetabApiErrorInit = {}) {
    super(message, { retryable: true, ...init });
  }
}
/** No full answer within `timeoutMs`. Always retryable. */
export class TimeoutError extends RetabApiError {
  override name = 'TimeoutError';
  constructor(message: string, init: RetabApiErrorInit = {}) {
    super(message, { retryable: true, ...init });
  }
}
/**
 * An answer the client cannot use: a 2xx body that is not JSON (retryable: usually a cut-off transfer),
 * a body of the wrong shape, or a pagination that would loop (not retryable: asking again gives the same).
 */
export class InvalidResponseError extends RetabApiError {
  override name = 'InvalidResponseError';
}

/** Parameters rejected by the client before any request was sent. */
export class RetabParamsError extends RetabError {
  override name = 'RetabParamsError';
  constructor(
    message: string,
    /** The offending parameter names. */
    readonly params: string[],
    /** The zod issues, as plain objects. */
    readonly issues: unknown[] = [],
  ) {
    super(message);
  }
}

/** A client option is missing or invalid (raised by `createRetabClient`). */
export class RetabConfigError extends RetabError {
  override name = 'RetabConfigError';
}

/** An upstream status worth retrying: 408 timeout, 409 conflict, 429 rate limited, 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export interface ParsedErrorBody {
  code: string | null;
  message: string | null;
  details: unknown;
  /** Parameter names from a 422 list (`loc` without its `query`/`body`/`path` head). */
  params: string[];
}

const LOC_HEADS = new Set(['query', 'body', 'path', 'header']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function paramOf(loc: unknown): string | null {
  if (!Array.isArray(loc)) return null;
  const parts = loc.map(String);
  if (parts.length > 1 && LOC_HEADS.has(parts[0] ?? '')) parts.shift();
  return parts.length > 0 ? parts.join('.') : null;
}

/**
 * Read Retab's three error-body shapes: `{"detail":{code,message,details}}`, `{"detail":"text"}`, and the
 * 422 list `{"detail":[{loc,msg,type}]}`. Anything else yields nulls (the caller falls back to the status).
 */
export function parseErrorBody(body: unknown): ParsedErrorBody {
  const none: ParsedErrorBody = { code: null, message: null, details: undefined, params: [] };
  if (!isRecord(body)) return none;
  const detail = body.detail;
  if (typeof detail === 'string') return { ...none, message: detail };
  if (Array.isArray(detail)) {
    const params: string[] = [];
    const parts: string[] = [];
    for (const item of detail) {
      const param = isRecord(item) ? paramOf(item.loc) : null;
      const msg = isRecord(item) && typeof item.msg === 'string' ? item.msg : 'invalid';
      if (param !== null && !params.includes(param)) params.push(param);
      parts.push(param === null ? msg : `${param}: ${msg}`);
    }
    const message = parts.length > 0 ? `invalid parameter(s) ${parts.join('; ')}` : null;
    return { code: 'validation_error', message, details: detail, params };
  }
  if (isRecord(detail)) {
    return {
      code: typeof detail.code === 'string' ? detail.code : null,
      message: typeof detail.message === 'string' ? detail.message : null,
      details: detail.details,
      params: [],
    };
  }
  return none;
}

export interface ErrorResponse {
  status: number;
  statusText?: string;
  /** Parsed JSON body, or undefined when the body was not JSON. */
  body: unknown;
  /** The raw body text (used, shortened, when it is not JSON). */
  text?: string;
  requestId?: string | null;
  retryAfterMs?: number | undefined;
  method: string;
  path: string;
}

function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Build the typed error for a non-2xx answer. Messages never contain request headers (nor the key). */
export function errorFromResponse(res: ErrorResponse): RetabApiError {
  const parsed = parseErrorBody(res.body);
  const reason = res.statusText || STATUS_CODES[res.status] || 'Error';
  const where = `${res.method} ${res.path}${res.requestId ? `, request id ${res.requestId}` : ''}`;
  const upstream = parsed.message ?? (res.text ? oneLine(res.text) : '');
  const init: RetabApiErrorInit = {
    status: res.status,
    code: parsed.code,
    details: parsed.details,
    requestId: res.requestId ?? null,
    retryAfterMs: res.retryAfterMs,
  };
  const msg = (text: string) => `${res.status} ${reason}: ${text} (${where})`;
  const plain = upstream || 'no details';
  switch (res.status) {
    case 400:
      return parsed.code === 'invalid_cursor'
        ? new InvalidCursorError(
            msg(`${plain}; the cursor job no longer exists, restart the walk from a stored watermark`),
            init,
          )
        : new BadRequestError(msg(plain), init);
    case 401:
      return new AuthenticationError(
        msg('the API key was rejected; check RETAB_API_KEY (create a key in the Retab dashboard)'),
        init,
      );
    case 403:
      return new PermissionDeniedError(
        msg(`${plain}; the key in RETAB_API_KEY lacks access to this resource`),
        init,
      );
    case 404:
      return new NotFoundError(msg(plain), init);
    case 422:
      return new UnprocessableEntityError(msg(plain), { ...init, params: parsed.params });
    case 429:
      return new RateLimitError(msg(plain), init);
    default:
      if (res.status >= 500) return new InternalServerError(msg(plain), init);
      return new RetabApiError(msg(plain), init);
  }
}
