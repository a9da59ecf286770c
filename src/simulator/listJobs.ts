/**
 * `GET /v1/jobs` over the job index. The narrowest index that serves one of the equality filters gives the
 * candidates; the date window becomes a position range by binary search, the cursor a position inside it;
 * then a scan in the direction of travel keeps candidates that pass every filter until the page is full.
 */

import type { NormalizedListParams } from '../retab/index.ts';
import {
  dayBounds,
  type FilenameMatcher,
  filenameContainsMatcher,
  filenameRegexMatcher,
} from '../retab/index.ts';
import type { JobIndex } from './jobIndex.ts';
import type { SimJob } from './simJob.ts';
import { lowerBound, lowerBoundTime, upperBound } from './sortedIndex.ts';

export type ListOutcome =
  | {
      ok: true;
      items: SimJob[];
      /** More matches lie beyond the page in the direction of travel. */
      hasMore: boolean;
      /** Matches lie before the page's start, against the direction of travel (for `list_metadata`). */
      hasBehind: boolean;
    }
  | { ok: false; code: 'invalid_cursor'; cursor: string; param: 'before' | 'after' };

type Predicate = (rec: SimJob) => boolean;

/** Every filter of the query as one predicate (the index only narrows the candidates; this decides). */
export function listPredicate(p: NormalizedListParams): Predicate {
  const checks: Predicate[] = [];
  if (p.id !== undefined) checks.push((r) => r.id === p.id);
  if (p.status !== undefined) checks.push((r) => r.status === p.status);
  if (p.endpoint !== undefined) checks.push((r) => r.endpoint === p.endpoint);
  if (p.source !== undefined) checks.push((r) => r.source === p.source);
  if (p.project_id !== undefined) checks.push((r) => r.projectId === p.project_id);
  if (p.model !== undefined) checks.push((r) => r.model === p.model);
  if (p.workflow_id !== undefined) checks.push((r) => r.metadata?.workflow_id === p.workflow_id);
  if (p.workflow_node_id !== undefined) checks.push((r) => r.workflowNodeId === p.workflow_node_id);
  if (p.metadata !== undefined) {
    const pairs = Object.entries(p.metadata);
    checks.push((r) => r.metadata !== null && pairs.every(([k, v]) => r.metadata?.[k] === v));
  }
  if (p.document_type !== undefined) {
    const wanted = new Set(p.document_type);
    checks.push((r) => r.documentTypes.some((t) => wanted.has(t)));
  }
  const matchers: FilenameMatcher[] = [];
  if (p.filename_regex !== undefined) matchers.push(filenameRegexMatcher(p.filename_regex));
  if (p.filename_contains !== undefined) matchers.push(filenameContainsMatcher(p.filename_contains));
  if (matchers.length > 0) {
    checks.push((r) => {
      const names = r.filenames;
      return matchers.every((m) => names.some(m));
    });
  }
  return (r) => {
    for (const check of checks) if (!check(r)) return false;
    return true;
  };
}

/** The smallest candidate set that an index can give for these filters. */
function candidates(index: JobIndex, p: NormalizedListParams): readonly SimJob[] {
  if (p.id !== undefined) {
    const rec = index.byId.get(p.id);
    return rec ? [rec] : [];
  }
  const sets: (readonly SimJob[])[] = [];
  if (p.status !== undefined) sets.push(index.lookup('status', p.status));
  if (p.endpoint !== undefined) sets.push(index.lookup('endpoint', p.endpoint));
  if (p.source !== undefined) sets.push(index.lookup('source', p.source));
  if (p.model !== undefined) sets.push(index.lookup('model', p.model));
  if (p.project_id !== undefined) sets.push(index.lookup('project', p.project_id));
  if (p.workflow_id !== undefined) sets.push(index.lookupMetadata('workflow_id', p.workflow_id));
  if (p.workflow_node_id !== undefined) sets.push(index.lookup('node', p.workflow_node_id));
  if (p.document_type?.length === 1) sets.push(index.lookup('doctype', p.document_type[0] as string));
  for (const [k, v] of Object.entries(p.metadata ?? {})) sets.push(index.lookupMetadata(k, v));
  let best: readonly SimJob[] = index.ordered;
  for (const arr of sets) if (arr.length < best.length) best = arr;
  return best;
}

/**
 * One page of the listing. `after` walks forward from the cursor's position; `before` walks backward and
 * returns the page just before the cursor, still in listing order. A cursor only has to exist: it names a
 * (created_at, id) position, whether or not that job matches the filters.
 */
export function listJobs(index: JobIndex, p: NormalizedListParams): ListOutcome {
  const cursorId = p.after ?? p.before;
  const cursor = cursorId === undefined ? undefined : index.byId.get(cursorId);
  if (cursorId !== undefined && cursor === undefined) {
    return {
      ok: false,
      code: 'invalid_cursor',
      cursor: cursorId,
      param: p.after !== undefined ? 'after' : 'before',
    };
  }
  if (p.from_date !== undefined && p.to_date !== undefined && p.from_date > p.to_date) {
    return { ok: true, items: [], hasMore: false, hasBehind: false };
  }
  const arr = candidates(index, p);
  const lo = p.from_date === undefined ? 0 : lowerBoundTime(arr, dayBounds(p.from_date).start);
  const hi = p.to_date === undefined ? arr.length : lowerBoundTime(arr, dayBounds(p.to_date).end);
  const desc = p.order === 'desc';
  const backward = p.before !== undefined;
  // Walking up the ascending array is forward travel for `asc` and backward travel for `desc`.
  const up = desc === backward;
  let start: number;
  if (cursor === undefined) start = up ? lo : hi - 1;
  else if (up) start = Math.max(lo, upperBound(arr, cursor.createdAt, cursor.id));
  else start = Math.min(hi, lowerBound(arr, cursor.createdAt, cursor.id)) - 1;

  const match = listPredicate(p);
  const items: SimJob[] = [];
  const want = p.limit + 1;
  if (up) {
    for (let i = start; i < hi && items.length < want; i++) {
      const rec = arr[i] as SimJob;
      if (match(rec)) items.push(rec);
    }
  } else {
    for (let i = start; i >= lo && items.length < want; i--) {
      const rec = arr[i] as SimJob;
      if (match(rec)) items.push(rec);
    }
  }
  const hasMore = items.length > p.limit;
  if (hasMore) items.pop();
  // Behind the page: from just before where the scan started, the other way (only a cursor leaves any).
  let hasBehind = false;
  if (cursor !== undefined && items.length > 0) {
    if (up) for (let i = start - 1; i >= lo && !hasBehind; i--) hasBehind = match(arr[i] as SimJob);
    else for (let i = start + 1; i < hi && !hasBehind; i++) hasBehind = match(arr[i] as SimJob);
  }
  if (backward) items.reverse();
  return { ok: true, items, hasMore, hasBehind };
}
