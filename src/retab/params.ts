/**
 * `GET /v1/jobs` parameters on the wire: serialising typed params the way Retab's clients do, and parsing a
 * raw query string into typed params with Retab's error shapes. The simulator and the local server both
 * parse with `parseListQuery`, so they reject exactly the same inputs with exactly the same bodies.
 */
import type { z } from 'zod';
import {
  DEFAULT_LIMIT,
  isKnownStatus,
  JOB_STATUSES,
  type ListJobsParams,
  ListJobsParamsSchema,
} from './schemas.ts';

/** A query string's pairs as a record; repeated keys give arrays (`document_type=pdf&document_type=png`). */
export function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** The query of a request URL (`/v1/jobs?status=failed`) as `queryRecord` gives it: what `parseListQuery` takes. */
export function rawQuery(url: string): Record<string, string | string[]> {
  const q = url.indexOf('?');
  return q < 0 ? {} : queryRecord(new URLSearchParams(url.slice(q + 1)));
}

/** Params after validation and alias folding: what a filter implementation consumes. */
export interface NormalizedListParams {
  before?: string;
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
  id?: string;
  status?: string;
  endpoint?: string;
  source?: string;
  project_id?: string;
  workflow_id?: string;
  workflow_node_id?: string;
  model?: string;
  filename_regex?: string;
  filename_contains?: string;
  document_type?: string[];
  from_date?: string;
  to_date?: string;
  metadata?: Record<string, string>;
  include_request: boolean;
  include_response: boolean;
}

/** A FastAPI-style validation item, as Retab returns them in a 422 `detail` list. */
export interface ValidationDetail {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
}

export type ParseResult =
  | { ok: true; params: NormalizedListParams }
  | { ok: false; status: 422; body: { detail: ValidationDetail[] } };

export function normalizeListParams(p: z.output<typeof ListJobsParamsSchema>): NormalizedListParams {
  const out: NormalizedListParams = {
    limit: p.limit ?? DEFAULT_LIMIT,
    order: p.order ?? 'desc',
    include_request: p.include_request ?? false,
    include_response: p.include_response ?? false,
  };
  const copy = [
    'before',
    'after',
    'status',
    'endpoint',
    'source',
    'project_id',
    'workflow_id',
    'model',
    'filename_regex',
    'filename_contains',
    'from_date',
    'to_date',
  ] as const;
  for (const k of copy) if (p[k] !== undefined) out[k] = p[k];
  const id = p.id ?? p.job_id;
  if (id !== undefined) out.id = id;
  const node = p.workflow_node_id ?? p.workflow_block_id;
  if (node !== undefined) out.workflow_node_id = node;
  if (p.document_type && p.document_type.length > 0) out.document_type = [...new Set(p.document_type)];
  if (p.metadata && Object.keys(p.metadata).length > 0) out.metadata = p.metadata;
  return out;
}

function issuesToDetail(issues: z.core.$ZodIssue[], raw: Record<string, unknown>): ValidationDetail[] {
  return issues.map((i) => {
    const name = String(i.path[0] ?? 'query');
    return {
      type: i.code,
      loc: ['query', name, ...i.path.slice(1).map((x) => (typeof x === 'number' ? x : String(x)))],
      msg: i.message,
      input: raw[name],
    };
  });
}

const BOOL: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };
const LIST_KEYS = new Set(Object.keys(ListJobsParamsSchema.shape));

/**
 * Parse a raw query (`?a=1&a=2` gives arrays) into normalised params, or a 422 body naming each bad parameter.
 * Unknown parameters are ignored, as the upstream does.
 */
export function parseListQuery(query: Record<string, string | string[] | undefined>): ParseResult {
  const raw: Record<string, unknown> = {};
  const pre: ValidationDetail[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || !LIST_KEYS.has(key)) continue;
    const values = Array.isArray(value) ? value : [value];
    const last = values[values.length - 1] ?? '';
    const reject = (type: string, msg: string) => pre.push({ type, loc: ['query', key], msg, input: last });
    switch (key) {
      case 'document_type':
        raw[key] = values
          .flatMap((v) => v.split(','))
          .map((v) => v.trim().toLowerCase())
          .filter((v) => v !== '');
        break;
      case 'limit':
        if (!/^-?\d+$/.test(last.trim())) {
          reject('int_parsing', 'Input should be a valid integer');
        } else raw[key] = Number(last);
        break;
      case 'include_request':
      case 'include_response': {
        const b = BOOL[last.toLowerCase()];
        if (b === undefined) {
          reject('bool_parsing', 'Input should be a valid boolean');
        } else raw[key] = b;
        break;
      }
      case 'metadata': {
        let parsed: unknown;
        try {
          parsed = JSON.parse(last);
        } catch {
          reject('json_invalid', 'metadata must be a JSON object string');
          break;
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          reject('dict_type', 'metadata must be a JSON object');
        } else raw[key] = parsed;
        break;
      }
      default:
        raw[key] = last;
    }
  }
  // Upstream answers 422 for a status it does not know; the typed schema lets any status name through
  // (for clients), so the servers check it here.
  if (typeof raw.status === 'string' && !isKnownStatus(raw.status)) {
    pre.push({
      type: 'enum',
      loc: ['query', 'status'],
      msg: `Input should be ${JOB_STATUSES.map((x) => `'${x}'`).join(', ')}`,
      input: raw.status,
    });
    delete raw.status;
  }
  const result = ListJobsParamsSchema.safeParse(raw);
  if (pre.length > 0 || !result.success) {
    const detail = [...pre, ...(result.success ? [] : issuesToDetail(result.error.issues, raw))];
    return { ok: false, status: 422, body: { detail } };
  }
  return { ok: true, params: normalizeListParams(result.data) };
}

/**
 * Serialise typed params the way Retab's clients do: repeated `document_type`, JSON `metadata`, `true`/`false`.
 * The exact-id filter goes out under both names, `job_id` (current clients) and `id` (older ones): each
 * upstream version reads its own and ignores the other, as it ignores every unknown parameter.
 */
export function serializeListParams(params: ListJobsParams): URLSearchParams {
  const qs = new URLSearchParams();
  const id = params.id ?? params.job_id;
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (key === 'id' || key === 'job_id') {
      if (!qs.has('job_id')) {
        qs.set('job_id', String(id));
        qs.set('id', String(id));
      }
      continue;
    }
    if (key === 'document_type' && Array.isArray(value)) {
      for (const v of value) qs.append(key, String(v));
    } else if (key === 'metadata') {
      qs.set(key, JSON.stringify(value));
    } else {
      qs.set(key, String(value));
    }
  }
  return qs;
}
