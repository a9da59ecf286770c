/**
 * The Overview page's numbers, from the in-memory columns (`jobColumns.ts`) in one pass over the jobs
 * created in the chosen range: jobs by status, jobs per bucket stacked by status, failure rate by endpoint
 * and failures by error code, and run-time / queue-wait p50 and p95 per bucket.
 *
 * Definitions follow `retab-mirror stats` (`mirror/statsJobs.ts`): failure rate = failed ÷ (completed +
 * failed); run time = `completed_at − started_at` over completed and failed jobs; queue wait =
 * `started_at − created_at` over jobs that started. Percentiles per bucket come from a histogram of
 * exact seconds below 120 s and 2 %-wide bins above, so they are within 2 % of the nearest-rank value.
 */
import type { MirrorStore } from '../mirror/index.ts';
import type { JobColumns } from './jobColumns.ts';
import type { Overview, PercentilePoint } from './wire.ts';

export type { Overview, PercentilePoint } from './wire.ts';

export interface OverviewFilters {
  /** Unix seconds, inclusive. */
  from: number;
  /** Unix seconds, exclusive. */
  to: number;
  endpoint?: string;
  source?: string;
  model?: string;
  /** Job seqs allowed by the metadata filter (1 = allowed); absent = no metadata filter. */
  allow?: Uint8Array;
}

const EXACT = 120;
const STEP = Math.log(1.02);
const BINS = EXACT + Math.ceil(Math.log((40 * 86_400) / EXACT) / STEP) + 1;
const bin = (v: number): number =>
  v < EXACT ? v : Math.min(BINS - 1, EXACT + Math.floor(Math.log(v / EXACT) / STEP));
const inc = (a: Uint32Array, i: number): void => {
  a[i] = (a[i] as number) + 1;
};
const binValue = (b: number): number => (b < EXACT ? b : Math.round(EXACT * Math.exp((b - EXACT) * STEP)));

function percentile(hist: Uint32Array, offset: number, n: number, p: number): number | null {
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(p * n));
  let seen = 0;
  for (let b = 0; b < BINS; b++) {
    seen += hist[offset + b] as number;
    if (seen >= rank) return binValue(b);
  }
  return null;
}

/** An hour, 6 hours or a day, whichever keeps the range to at most ~200 buckets. */
export function bucketWidth(from: number, to: number): number {
  const span = Math.max(1, to - from);
  for (const w of [3600, 6 * 3600]) if (span / w <= 200) return w;
  return 86_400;
}

export function computeOverview(cols: JobColumns, f: OverviewFilters): Overview {
  const width = bucketWidth(f.from, f.to);
  const start = Math.floor(f.from / width) * width;
  const nBuckets = Math.max(1, Math.ceil((f.to - start) / width));
  const nStatus = cols.dict.status.values.length;
  const nEndpoint = cols.dict.endpoint.values.length;
  const nCode = cols.dict.errorCode.values.length;
  const counts = new Uint32Array(nStatus * nBuckets);
  const statusTotals = new Uint32Array(nStatus);
  const endpointDone = new Uint32Array(nEndpoint * 2);
  const codeCounts = new Uint32Array(nCode);
  const durHist = new Uint32Array(nBuckets * BINS);
  const waitHist = new Uint32Array(nBuckets * BINS);
  const durN = new Uint32Array(nBuckets);
  const waitN = new Uint32Array(nBuckets);

  const want = (d: { find(v: string): number | undefined }, v: string | undefined) =>
    v === undefined ? -1 : (d.find(v) ?? -2);
  const wEndpoint = want(cols.dict.endpoint, f.endpoint);
  const wSource = want(cols.dict.source, f.source);
  const wModel = want(cols.dict.model, f.model);
  const completed = cols.dict.status.find('completed') ?? -1;
  const failed = cols.dict.status.find('failed') ?? -1;
  const impossible = wEndpoint === -2 || wSource === -2 || wModel === -2;

  const { present, createdAt, status, endpoint, source, model, errorCode, wait, duration } = cols;
  const allow = f.allow;
  let total = 0;
  for (let i = impossible ? cols.size : 0; i < cols.size; i++) {
    if (present[i] === 0) continue;
    const c = createdAt[i] as number;
    if (c < f.from || c >= f.to) continue;
    if (wEndpoint >= 0 && endpoint[i] !== wEndpoint) continue;
    if (wSource >= 0 && source[i] !== wSource) continue;
    if (wModel >= 0 && model[i] !== wModel) continue;
    if (allow !== undefined && allow[i] !== 1) continue;
    total++;
    const s = status[i] as number;
    const b = Math.floor((c - start) / width);
    inc(counts, s * nBuckets + b);
    inc(statusTotals, s);
    if (s === completed || s === failed) {
      const e = endpoint[i] as number;
      inc(endpointDone, e * 2 + (s === failed ? 1 : 0));
      if (s === failed) inc(codeCounts, errorCode[i] as number);
      const d = duration[i] as number;
      if (d >= 0) {
        inc(durHist, b * BINS + bin(d));
        inc(durN, b);
      }
    }
    const w = wait[i] as number;
    if (w >= 0) {
      inc(waitHist, b * BINS + bin(w));
      inc(waitN, b);
    }
  }

  const byStatus: Record<string, number> = {};
  const series: Record<string, number[]> = {};
  cols.dict.status.values.forEach((name, s) => {
    if (name === null || statusTotals[s] === 0) return;
    byStatus[name] = statusTotals[s] as number;
    series[name] = Array.from(counts.subarray(s * nBuckets, (s + 1) * nBuckets));
  });
  const failureByEndpoint = cols.dict.endpoint.values
    .map((name, e) => {
      const done = endpointDone[e * 2] as number;
      const bad = endpointDone[e * 2 + 1] as number;
      return {
        endpoint: name ?? '',
        completed: done,
        failed: bad,
        failureRate: done + bad > 0 ? bad / (done + bad) : null,
      };
    })
    .filter((r) => r.completed + r.failed > 0)
    .sort((a, b) => (b.failureRate ?? 0) - (a.failureRate ?? 0) || a.endpoint.localeCompare(b.endpoint));
  const failureByErrorCode = cols.dict.errorCode.values
    .map((name, k) => ({ code: name ?? '(none)', count: codeCounts[k] as number }))
    .filter((r) => r.count > 0)
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  const points = (hist: Uint32Array, n: Uint32Array): PercentilePoint[] =>
    Array.from({ length: nBuckets }, (_, b) => ({
      p50: percentile(hist, b * BINS, n[b] as number, 0.5),
      p95: percentile(hist, b * BINS, n[b] as number, 0.95),
    }));
  const names = (d: { values: (string | null)[] }) =>
    d.values.filter((v): v is string => v !== null).sort((a, b) => a.localeCompare(b));
  return {
    from: f.from,
    to: f.to,
    bucketSeconds: width,
    buckets: Array.from({ length: nBuckets }, (_, b) => start + b * width),
    total,
    byStatus,
    series,
    failureByEndpoint,
    failureByErrorCode,
    duration: points(durHist, durN),
    queueWait: points(waitHist, waitN),
    choices: {
      endpoint: names(cols.dict.endpoint),
      source: names(cols.dict.source),
      model: names(cols.dict.model),
      status: names(cols.dict.status),
    },
  };
}

/**
 * The seqs of jobs having every `key=value` pair (one index range read per pair on `job_metadata`'s
 * primary key), as a mask over seqs.
 */
export async function metadataMask(
  store: MirrorStore,
  pairs: [string, string][],
  size: number,
): Promise<Uint8Array> {
  let mask: Uint8Array | undefined;
  for (const [key, value] of pairs) {
    const next = new Uint8Array(size);
    for (const seq of await store.views.metadataSeqs(key, value)) {
      if (seq < size && (mask === undefined || mask[seq] === 1)) next[seq] = 1;
    }
    mask = next;
  }
  return mask ?? new Uint8Array(size).fill(1);
}
