/**
 * `sim.stats`: every `/v1` request in arrival order, for cost assertions ("the active sweep made 3 list
 * calls") and reliability ones ("no request came back before its Retry-After had passed").
 */
import type { FaultKind } from './faults.ts';

export type Route = 'list' | 'retrieve' | 'create' | 'cancel' | 'retry';

export interface RequestRecord {
  method: string;
  /** `other` for paths that match no route (answered 404). */
  route: Route | 'other';
  path: string;
  /** The query string as an object; a repeated key's values are comma-joined. */
  query: Record<string, string>;
  /** HTTP status sent; 0 when the connection was reset. */
  status: number;
  /** Arrival, wall-clock unix ms. */
  at: number;
  fault?: FaultKind;
  /** The same request (method, path, query) arrived while a Retry-After sent for it was still running. */
  earlyRetry?: boolean;
  /** Any request arrived while a Retry-After sent for any request was still running. */
  duringRetryAfter?: boolean;
}

/** Clock skew tolerated when judging an early retry: timers may fire a millisecond or two early. */
const RETRY_AFTER_TOLERANCE_MS = 5;

export function requestKey(r: Pick<RequestRecord, 'method' | 'path' | 'query'>): string {
  const q = Object.keys(r.query)
    .sort()
    .map((k) => `${k}=${r.query[k]}`)
    .join('&');
  return `${r.method} ${r.path}${q ? `?${q}` : ''}`;
}

/** A long-running simulator keeps the most recent requests only (counts stay exact in `total`). */
const MAX_KEPT = 200_000;

export class RequestStats {
  readonly requests: RequestRecord[] = [];
  private readonly retryAfterUntil = new Map<string, number>();
  private anyRetryAfterUntil = 0;
  private received = 0;

  /** Requests received since the last reset (`requests` keeps the latest 200,000 of them). */
  get total(): number {
    return this.received;
  }

  count(predicate?: (r: RequestRecord) => boolean): number {
    if (!predicate) return this.received;
    let n = 0;
    for (const r of this.requests) if (predicate(r)) n++;
    return n;
  }

  /** Requests per route and parameter set, e.g. `GET /v1/jobs?limit=100&status=queued` → 3. */
  byKey(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) {
      const k = requestKey(r);
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  reset(): void {
    this.received = 0;
    this.requests.length = 0;
    this.retryAfterUntil.clear();
    this.anyRetryAfterUntil = 0;
  }

  /** Logs an arriving request (status filled in when answered). */
  arrive(
    method: string,
    route: RequestRecord['route'],
    path: string,
    query: Record<string, string>,
  ): RequestRecord {
    const at = Date.now();
    const rec: RequestRecord = { method, route, path, query, status: 0, at };
    const until = this.retryAfterUntil.get(requestKey(rec));
    if (until !== undefined && at < until - RETRY_AFTER_TOLERANCE_MS) rec.earlyRetry = true;
    if (at < this.anyRetryAfterUntil - RETRY_AFTER_TOLERANCE_MS) rec.duringRetryAfter = true;
    this.requests.push(rec);
    this.received++;
    if (this.requests.length > MAX_KEPT) this.requests.splice(0, MAX_KEPT / 2);
    return rec;
  }

  /** Notes that a 429 told the client to wait `seconds` before sending `rec` again. */
  retryAfterSent(rec: RequestRecord, seconds: number): void {
    const until = Date.now() + seconds * 1000;
    this.retryAfterUntil.set(requestKey(rec), until);
    this.anyRetryAfterUntil = Math.max(this.anyRetryAfterUntil, until);
  }
}
