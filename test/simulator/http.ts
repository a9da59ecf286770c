/** Plain-fetch helpers for the simulator tests: real HTTP on 127.0.0.1, nothing stubbed. */
import type { Job } from '../../src/retab/schemas.ts';
import type { Simulator } from '../../src/simulator/index.ts';

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export function qs(query: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = unknown>(
  sim: Simulator,
  method: string,
  path: string,
  opts: { query?: Query; body?: unknown; apiKey?: string | null } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  const key = opts.apiKey === undefined ? sim.apiKey : opts.apiKey;
  if (key !== null) headers['Api-Key'] = key;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${sim.url}${path}${qs(opts.query ?? {})}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface ListBody {
  object: 'list';
  data: Job[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export async function list(sim: Simulator, query: Query): Promise<ListBody> {
  const r = await call<ListBody>(sim, 'GET', '/jobs', { query });
  if (r.status !== 200) throw new Error(`GET /jobs${qs(query)} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Every page of a listing, following `after` (or `before` when `backwardFrom` is given). */
export async function walk(sim: Simulator, query: Query, backwardFrom?: string): Promise<ListBody[]> {
  const pages: ListBody[] = [];
  let cursor = backwardFrom;
  for (;;) {
    const page = await list(sim, {
      ...query,
      ...(backwardFrom !== undefined ? { before: cursor } : cursor !== undefined ? { after: cursor } : {}),
    });
    pages.push(page);
    if (!page.has_more) return pages;
    cursor = (backwardFrom !== undefined ? page.first_id : page.last_id) ?? undefined;
  }
}

export const ids = (jobs: { id: string }[]): string[] => jobs.map((j) => j.id);
