/**
 * The console API's answers as the browser reads them (`/console/api/overview`, `/sync`, `/alerts`): declared
 * once, here, for the server views that compute them and the front end (`web/src`) that draws them. Types
 * only, importing nothing, so the front end's build can take them as they are.
 */

export interface PercentilePoint {
  p50: number | null;
  p95: number | null;
}

export interface Overview {
  from: number;
  to: number;
  /** Bucket width, seconds (an hour, 6 hours or a day: at most ~200 buckets). */
  bucketSeconds: number;
  /** Bucket starts, unix seconds. */
  buckets: number[];
  total: number;
  byStatus: Record<string, number>;
  /** Per status, one count per bucket. */
  series: Record<string, number[]>;
  failureByEndpoint: { endpoint: string; completed: number; failed: number; failureRate: number | null }[];
  failureByErrorCode: { code: string; count: number }[];
  duration: PercentilePoint[];
  queueWait: PercentilePoint[];
  /** Values present in the whole mirror, for the filter menus. */
  choices: { endpoint: string[]; source: string[]; model: string[]; status: string[] };
}

export interface RunView {
  id: number;
  task: string;
  outcome: string;
  /** Unix ms. */
  startedAt: number;
  durationMs: number | null;
  requests: number;
  jobs: number;
  events: number;
  quarantined: number;
  error: string | null;
}

export interface PartitionView {
  partition: string;
  status: string;
  /** Unix ms. */
  lastSuccessAt: number | null;
  lastError: string | null;
  runs: RunView[];
}

export interface TaskLag {
  task: string;
  /** The schedule, ms (POLL_* settings). */
  everyMs: number;
  /** Unix ms the last successful run of this task finished; null before any. */
  lastSuccessAt: number | null;
  /** now − lastSuccessAt, ms. */
  lagMs: number | null;
  /** Lag beyond three periods: the schedule is not being kept. */
  late: boolean;
}

export interface SyncView {
  at: number;
  partitions: PartitionView[];
  lag: TaskLag[];
  upstream: { bucketSeconds: number; buckets: number[]; byStatus: Record<string, number[]> };
  quarantine: {
    id: number;
    jobId: string | null;
    partition: string | null;
    reason: string;
    observedAt: number;
  }[];
}

export interface AlertsView {
  maxSeq: number;
  sinks: { sink: string; seq: number; lag: number; updatedAt: number }[];
  deadLetters: {
    id: number;
    sink: string;
    seq: number;
    eventId: string;
    jobId: string | null;
    attempts: number;
    lastError: string | null;
    failedAt: number;
    resolvedAt: number | null;
  }[];
  /** The rules in force (`ALERT_RULES`, see config.ts), as configured. */
  rules: unknown[];
  webhooks: { name: string; url: string }[];
}
