/**
 * Parameters of `GET /v1/mirror/stats` (and `retab-mirror stats`): `by` (group), `from`/`to` (UTC days,
 * inclusive; `from_date`/`to_date` also accepted) and any `GET /v1/jobs` filter. Errors use the 422 list
 * shape of the jobs listing.
 */

import {
  type ListJobsParams,
  parseListQuery,
  RetabParamsError,
  type ValidationDetail,
  validateListParams,
} from '../retab/index.ts';
import { STATS_GROUP_BY, type StatsGroupBy } from './statsGroupBy.ts';
import type { StatsOptions } from './statsJobs.ts';

export type StatsParseResult =
  | { ok: true; options: StatsOptions }
  | { ok: false; status: 422; body: { detail: ValidationDetail[] } };

const last = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v[v.length - 1] : v;

export function parseStatsQuery(query: Record<string, string | string[] | undefined>): StatsParseResult {
  const detail: ValidationDetail[] = [];
  const by = last(query.by) ?? 'status';
  if (!(STATS_GROUP_BY as readonly string[]).includes(by)) {
    detail.push({
      type: 'enum',
      loc: ['query', 'by'],
      msg: `Input should be ${STATS_GROUP_BY.map((g) => `'${g}'`).join(', ')}`,
      input: by,
    });
  }
  const { by: _by, from, to, limit: _l, before: _b, after: _a, ...rest } = query;
  const list = parseListQuery({
    ...rest,
    ...(from !== undefined ? { from_date: from } : {}),
    ...(to !== undefined ? { to_date: to } : {}),
  });
  if (!list.ok) detail.push(...list.body.detail);
  if (detail.length > 0 || !list.ok) return { ok: false, status: 422, body: { detail } };
  const { from_date, to_date, ...filters } = list.params;
  return {
    ok: true,
    options: {
      groupBy: by as StatsGroupBy,
      ...(from_date !== undefined ? { from: from_date } : {}),
      ...(to_date !== undefined ? { to: to_date } : {}),
      filters,
    },
  };
}

/**
 * Check `StatsOptions` given as an object (the library facade's `stats`) by the rules `parseStatsQuery`
 * applies to a query string: `groupBy` one of `STATS_GROUP_BY`; `from`/`to` UTC days (`YYYY-MM-DD`);
 * `filters` as `GET /v1/jobs` takes them (validateListParams). Returns the options unchanged.
 * @throws RetabParamsError naming each bad option (`groupBy`, `from`, `to`, or the filter's name).
 */
export function validateStatsOptions(opts: StatsOptions): StatsOptions {
  const names: string[] = [];
  const parts: string[] = [];
  const issues: unknown[] = [];
  if (!(STATS_GROUP_BY as readonly string[]).includes(opts?.groupBy)) {
    names.push('groupBy');
    parts.push(`groupBy: expected one of ${STATS_GROUP_BY.join(', ')}`);
  }
  try {
    validateListParams({
      ...opts?.filters,
      ...(opts?.from !== undefined ? { from_date: opts.from } : {}),
      ...(opts?.to !== undefined ? { to_date: opts.to } : {}),
    } as ListJobsParams);
  } catch (err) {
    if (!(err instanceof RetabParamsError)) throw err;
    const renamed = (p: string) =>
      p === 'from_date' && opts.from !== undefined
        ? 'from'
        : p === 'to_date' && opts.to !== undefined
          ? 'to'
          : p;
    for (const p of err.params) names.push(renamed(p));
    parts.push(err.message.replace(/^invalid list parameter /, '').replace(/ \(no request was sent\)$/, ''));
    issues.push(...err.issues);
  }
  if (names.length > 0) throw new RetabParamsError(`invalid stats option ${parts.join('; ')}`, names, issues);
  return opts;
}
