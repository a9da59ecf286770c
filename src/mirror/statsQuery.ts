/**
 * Parameters of `GET /v1/mirror/stats` (and `retab-mirror stats`): `by` (group), `from`/`to` (UTC days,
 * inclusive; `from_date`/`to_date` also accepted) and any `GET /v1/jobs` filter. Errors use the 422 list
 * shape of the jobs listing.
 */

import { parseListQuery, type ValidationDetail } from '../retab/index.ts';
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
