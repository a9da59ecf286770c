/**
 * Arrays of jobs kept sorted ascending by (created_at, id), and the binary searches over them that turn a
 * cursor or a date bound into a position in O(log n).
 */
import type { SimJob } from './simJob.ts';

/** First position whose key is > (createdAt, id), or >= it when `orEqual`. */
function firstAfter(arr: readonly SimJob[], createdAt: number, id: string, orEqual: boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = arr[mid] as SimJob;
    if (m.createdAt < createdAt || (m.createdAt === createdAt && (m.id < id || (!orEqual && m.id === id))))
      lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position whose key is >= (createdAt, id). */
export function lowerBound(arr: readonly SimJob[], createdAt: number, id: string): number {
  return firstAfter(arr, createdAt, id, true);
}

/** First position whose key is > (createdAt, id). */
export function upperBound(arr: readonly SimJob[], createdAt: number, id: string): number {
  return firstAfter(arr, createdAt, id, false);
}

/** First position created at or after `createdAt` (unix s). */
export function lowerBoundTime(arr: readonly SimJob[], createdAt: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid] as SimJob).createdAt < createdAt) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function insertSorted(arr: SimJob[], rec: SimJob): void {
  const at = lowerBound(arr, rec.createdAt, rec.id);
  // New jobs arrive at the end, where push is O(1); splice only for the rare insert in the middle.
  if (at === arr.length) arr.push(rec);
  else arr.splice(at, 0, rec);
}

/** Removes `rec` if present; returns whether it was. */
export function removeSorted(arr: SimJob[], rec: SimJob): boolean {
  const at = lowerBound(arr, rec.createdAt, rec.id);
  if (arr[at] !== rec) return false;
  if (at === arr.length - 1) arr.pop();
  else arr.splice(at, 1);
  return true;
}
