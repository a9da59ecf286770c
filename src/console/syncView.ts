/**
 * The Sync page's numbers, from `sync_runs`, `sync_state` and `quarantine`: per partition its last runs,
 * the sync lag of each scheduled task against its schedule, upstream answers by HTTP status per bucket
 * (retries included, from each run's `upstream_statuses`), and the newest quarantined items. Every read is
 * an index range read bounded by a limit or by the chosen time range (runs are read newest first by id,
 * which follows `started_at`), so it costs what the page shows, not what the mirror holds.
 */
import type { MirrorStore } from '../mirror/index.ts';
import { bucketWidth } from './overview.ts';
import type { PartitionView, RunView, SyncView, TaskLag } from './wire.ts';

export type { PartitionView, RunView, SyncView, TaskLag } from './wire.ts';

export interface SyncViewOptions {
  /** Unix seconds, inclusive / exclusive: the range of the upstream chart. */
  from: number;
  to: number;
  /** Last runs shown per partition. @default 5 */
  runsPerPartition?: number;
  /** Partitions shown (scheduled ones first, then the newest windows). @default 60 */
  maxPartitions?: number;
  schedule: Record<string, number>;
  now?: number;
}

export async function computeSyncView(store: MirrorStore, opts: SyncViewOptions): Promise<SyncView> {
  const now = opts.now ?? Date.now();
  const states: Omit<PartitionView, 'runs'>[] = await store.views.partitions(opts.maxPartitions ?? 60);
  const partitions: PartitionView[] = [];
  for (const s of states) {
    const runs: RunView[] = await store.views.runsOf(s.partition, opts.runsPerPartition ?? 5);
    partitions.push({ ...s, runs });
  }

  const lag: TaskLag[] = [];
  for (const [task, everyMs] of Object.entries(opts.schedule)) {
    const t = await store.views.lastSuccessAt(task);
    const lagMs = t === null ? null : Math.max(0, now - t);
    lag.push({ task, everyMs, lastSuccessAt: t, lagMs, late: lagMs !== null && lagMs > 3 * everyMs });
  }

  const width = bucketWidth(opts.from, opts.to);
  const start = Math.floor(opts.from / width) * width;
  const n = Math.max(1, Math.ceil((opts.to - start) / width));
  const byStatus: Record<string, number[]> = {};
  // Runs repeat a handful of distinct answers (`{"200":2}`): each distinct text is parsed once.
  const seen = new Map<string, [string, number][]>();
  // Newest first by id (ids follow start times), down to the first run older than the range.
  for (const [startedMs, statuses] of await store.views.upstreamStatusesSince(opts.from * 1000)) {
    const t = Math.floor(startedMs / 1000);
    if (t >= opts.to || statuses === null) continue;
    const b = Math.floor((t - start) / width);
    let parsed = seen.get(statuses);
    if (parsed === undefined) {
      try {
        parsed = Object.entries(JSON.parse(statuses) as Record<string, number>);
      } catch {
        parsed = [];
      }
      seen.set(statuses, parsed);
    }
    for (const [code, count] of parsed) {
      const arr = byStatus[code] ?? new Array<number>(n).fill(0);
      arr[b] = (arr[b] ?? 0) + count;
      byStatus[code] = arr;
    }
  }

  const quarantine: SyncView['quarantine'] = await store.views.recentQuarantine(50);
  return {
    at: now,
    partitions,
    lag,
    upstream: {
      bucketSeconds: width,
      buckets: Array.from({ length: n }, (_, b) => start + b * width),
      byStatus,
    },
    quarantine,
  };
}
