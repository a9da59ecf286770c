/**
 * The upstream job lifecycle as a graph, and the status steps a poll implies when it sees a job move from one
 * status to another. Polls skip states (a job can be queued at one poll and completed at the next); the
 * steps in between are reported as `inferred` so event consumers see a coherent lifecycle.
 */
import { isKnownStatus, JOB_STATUSES, type JobStatus, type KnownJobStatus } from '../retab/index.ts';

/**
 * validating → queued → in_progress → completed | failed; cancelled and expired from any active state;
 * retry puts failed, cancelled or expired back to queued (terminal is not final: the lifecycle is a cycle).
 */
const EDGES: Readonly<Record<KnownJobStatus, readonly KnownJobStatus[]>> = {
  validating: ['queued', 'cancelled', 'expired'],
  queued: ['in_progress', 'cancelled', 'expired'],
  in_progress: ['completed', 'failed', 'cancelled', 'expired'],
  completed: [],
  failed: ['queued'],
  cancelled: ['queued'],
  expired: ['queued'],
};

export interface StatusStep {
  from: JobStatus;
  to: JobStatus;
  /** Not observed: implied by the lifecycle between two observations. */
  inferred: boolean;
}

/**
 * The unique shortest walk from `from` to `to` (a cycle when they are equal), or null when there is none or
 * when several walks are equally short (then the states in between are unknown and nothing is inferred).
 */
function uniqueShortestWalk(from: KnownJobStatus, to: KnownJobStatus): KnownJobStatus[] | null {
  // BFS counting shortest paths; `prev` is kept only while a node is reached by a single shortest path.
  const dist = new Map<KnownJobStatus, number>();
  const count = new Map<KnownJobStatus, number>();
  const prev = new Map<KnownJobStatus, KnownJobStatus>();
  const queue: KnownJobStatus[] = [];
  for (const n of EDGES[from]) {
    dist.set(n, 1);
    count.set(n, 1);
    queue.push(n);
  }
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] as KnownJobStatus;
    if (node === to) continue;
    const d = dist.get(node) as number;
    for (const n of EDGES[node]) {
      const seen = dist.get(n);
      if (seen === undefined) {
        dist.set(n, d + 1);
        count.set(n, count.get(node) as number);
        prev.set(n, node);
        queue.push(n);
      } else if (seen === d + 1) {
        count.set(n, (count.get(n) as number) + (count.get(node) as number));
      }
    }
  }
  if (!dist.has(to) || count.get(to) !== 1) return null;
  const walk: KnownJobStatus[] = [to];
  let node = to;
  while (prev.has(node)) {
    node = prev.get(node) as KnownJobStatus;
    walk.unshift(node);
  }
  walk.unshift(from);
  return walk;
}

function buildTable(): Map<string, StatusStep[]> {
  const table = new Map<string, StatusStep[]>();
  for (const from of JOB_STATUSES) {
    for (const to of JOB_STATUSES) {
      const walk = uniqueShortestWalk(from, to);
      let steps: StatusStep[];
      if (walk) {
        steps = [];
        for (let i = 1; i < walk.length; i++) {
          steps.push({
            from: walk[i - 1] as KnownJobStatus,
            to: walk[i] as KnownJobStatus,
            inferred: i < walk.length - 1,
          });
        }
      } else {
        // Impossible or ambiguous: report the observed change as it is (for a cycle, nothing).
        steps = from === to ? [] : [{ from, to, inferred: false }];
      }
      table.set(`${from}>${to}`, steps);
    }
  }
  return table;
}

const TABLE = buildTable();

/**
 * The steps from a stored status to an observed one: the skipped ones first (`inferred: true`), the observed
 * change last. `from === to` asks for a full cycle (a retry that ended where it started, e.g. failed → queued
 * → in_progress → failed), which callers request only when the job's timestamps prove one happened.
 */
export function transitionSteps(from: JobStatus, to: JobStatus): readonly StatusStep[] {
  // A status outside the lifecycle graph (one upstream added since): the observed change, nothing inferred.
  return TABLE.get(`${from}>${to}`) ?? (from === to ? [] : [{ from, to, inferred: false }]);
}

/** The unique shortest walk's steps from `from` to `to` (all `inferred`), `[]` when equal, null when none or several. */
function uniqueSteps(from: JobStatus, to: JobStatus): StatusStep[] | null {
  if (from === to) return [];
  if (!isKnownStatus(from) || !isKnownStatus(to)) return null;
  const walk = uniqueShortestWalk(from, to);
  if (!walk) return null;
  return walk.slice(1).map((next, i) => ({ from: walk[i] as KnownJobStatus, to: next, inferred: true }));
}

/**
 * The steps from a stored status to an observed one when `attempt_count` rose in between: a new attempt
 * started, so the walk passes `queued → in_progress` (the count rises when an attempt starts). E.g. cancelled
 * (attempt 1) → cancelled (attempt 2) is cancelled → queued → in_progress → cancelled, not the shorter
 * cancelled → queued → cancelled. Null when the walk to `queued` or from `in_progress` is ambiguous or
 * impossible (e.g. from `in_progress`: failed, cancelled or expired before the retry?): then callers fall
 * back to `transitionSteps`.
 */
export function retrySteps(from: JobStatus, to: JobStatus): readonly StatusStep[] | null {
  const before = uniqueSteps(from, 'queued');
  const after = uniqueSteps('in_progress', to);
  if (!before || !after) return null;
  const steps: StatusStep[] = [...before, { from: 'queued', to: 'in_progress', inferred: true }, ...after];
  const last = steps[steps.length - 1] as StatusStep;
  steps[steps.length - 1] = { ...last, inferred: false };
  return steps;
}

/** A job's own timestamps (unix seconds), as the mirror's rows and drafts carry them. */
export interface JobTimes {
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
}

/** Unix ms at which the job entered `status`, from its own timestamps (seconds), or null when it has none. */
export function statusTimestamp(status: JobStatus, job: JobTimes): number | null {
  switch (status) {
    case 'validating':
      return job.createdAt * 1000;
    case 'in_progress':
      return job.startedAt !== null ? job.startedAt * 1000 : null;
    case 'completed':
    case 'failed':
    case 'cancelled':
    case 'expired':
      return job.completedAt !== null ? job.completedAt * 1000 : null;
    default:
      return null;
  }
}

export interface TimedStep extends StatusStep {
  /** Unix ms. */
  occurredAt: number;
}

/**
 * Dates each step: the observed step from the job's timestamp for its target status (else `observedAt`);
 * each earlier step likewise, but never later than the step after it (a step with no timestamp of its own
 * takes the next step's time: it happened at or before it).
 */
export function timeSteps(steps: readonly StatusStep[], job: JobTimes, observedAt: number): TimedStep[] {
  const out: TimedStep[] = new Array(steps.length);
  let next = Number.POSITIVE_INFINITY;
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i] as StatusStep;
    const own = statusTimestamp(step.to, job);
    const at = i === steps.length - 1 ? (own ?? observedAt) : Math.min(own ?? next, next);
    out[i] = { ...step, occurredAt: at };
    next = at;
  }
  return out;
}
