/** Rate assertions shared by the fleet rate-limit tests. */

/** The most timestamps (ms) that fall in any window [t, t + 1000): the sliding-window request count. */
export function maxInAnySecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** The timestamps of the busiest 1-second window, as offsets from its first (ms): for failure messages. */
export function busiestSecond(times: readonly number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  let best: [number, number] = [0, 0];
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= 1000) lo++;
    if (hi - lo > best[1] - best[0]) best = [lo, hi];
  }
  const first = sorted[best[0]] ?? 0;
  return `busiest second (ms from ${first}): ${sorted
    .slice(best[0], best[1] + 1)
    .map((t) => t - first)
    .join(' ')}`;
}
