/**
 * The merge rule of the mirror, as a pure function: given what is stored for a job (if anything) and a new
 * observation of it, what to write and which status steps to report.
 *
 * - The job's own `attempt_count` outranks clocks: a higher count is the newer observation, a lower one is
 *   stale, whenever each was observed (see `attemptOrder`).
 * - A rising `attempt_count` is a retry even when the status looks the same (failed → failed): the cycle it
 *   implies (failed → queued → in_progress → failed) is reported once, the steps in between `inferred`.
 *
 * - Absent is not null: an item without request/response (a lightweight listing) never erases stored ones,
 *   and the columns derived from the request (project, model, files) stay; `source` is recomputed from the
 *   stored project and the incoming metadata.
 * - Stale observations never win. Which of the stored state and the observation is newer is decided by the
 *   first check of `RECENCY_CHECKS` that can tell (the job's own word first, then the clock): see there.
 *   An observation is dated by when its request was *sent* (walkPages.ts), so a response read late never
 *   claims to be newer than one a quicker task committed meanwhile. A stale observation may still fill in a
 *   missing request, because requests never change upstream.
 * - Terminal is not final: the same terminal status with a new `completed_at` means a retry cycle happened
 *   between two observations; it is reported as one.
 */
import type { JobStatus, KnownJobStatus } from '../retab/index.ts';
import { isKnownStatus, isTerminal } from '../retab/index.ts';
import { columnsChanged, fillFromRequest, mergeColumns, type StoredJob } from './jobColumns.ts';
import type { JobDraft } from './jobToRow.ts';
import { retrySteps, statusTimestamp, type TimedStep, timeSteps, transitionSteps } from './transitions.ts';
import type { PayloadsIncluded } from './types.ts';

/** The stored columns the merge needs (all of `jobs` but the payloads): declared in jobColumns.ts. */
export type { StoredJob } from './jobColumns.ts';

/**
 * `insert`: new job. `update`: content changed. `fill`: a stale observation brought a missing request.
 * `touch`: same content, only the seen/observed times move. `stale`: nothing to write.
 */
export type MergeKind = 'insert' | 'update' | 'fill' | 'touch' | 'stale';

export interface MergePlan {
  kind: MergeKind;
  /** The stored state after the write. */
  next: StoredJob;
  /** Payload text to write; null keeps the stored one. */
  request: string | null;
  response: string | null;
  /** Replace the job's `job_files` rows with the draft's. */
  rewriteFiles: boolean;
  /** Replace the job's `job_metadata` rows with the draft's. */
  rewriteMetadata: boolean;
  /** Status steps to report, oldest first (skipped ones `inferred`). Empty for an insert: that is a discovery. */
  steps: TimedStep[];
}

const NONE: PayloadsIncluded = {};

/** Whether the observation settles the request (it carries one, or was asked for it and upstream has none). */
const requestKnown = (d: JobDraft, payloads: PayloadsIncluded) =>
  d.request !== null || payloads.request === true;
/** The same for the response, which only a completed job has. */
const responseKnown = (d: JobDraft, payloads: PayloadsIncluded) =>
  d.response !== null || (payloads.response === true && d.status === 'completed');

function insertPlan(d: JobDraft, observedAt: number, payloads: PayloadsIncluded): MergePlan {
  const next = mergeColumns(undefined, d, {
    hasRequest: requestKnown(d, payloads),
    hasResponse: responseKnown(d, payloads),
    firstSeenAt: observedAt,
    lastSeenAt: observedAt,
    observedAt,
    statusChangedAt: statusTimestamp(d.status, d) ?? observedAt,
    upstreamMissingAt: null,
  });
  return {
    kind: 'insert',
    next,
    request: d.request,
    response: d.response,
    rewriteFiles: d.files !== null && d.files.length > 0,
    rewriteMetadata: d.metadataPairs.length > 0,
    steps: [],
  };
}

function stalePlan(s: StoredJob, d: JobDraft): MergePlan {
  if (d.request !== null && !s.hasRequest) {
    // Requests never change upstream: the columns derived from one are filled in, whatever the order.
    const next = fillFromRequest(s, d);
    next.hasRequest = true;
    return {
      kind: 'fill',
      next,
      request: d.request,
      response: null,
      rewriteFiles: true,
      rewriteMetadata: false,
      steps: [],
    };
  }
  return {
    kind: 'stale',
    next: s,
    request: null,
    response: null,
    rewriteFiles: false,
    rewriteMetadata: false,
    steps: [],
  };
}

/**
 * Whether the observation is newer than the stored state (> 0), older (< 0), or the check cannot tell (0 or
 * undefined: the next check decides).
 */
export type RecencyCheck = (stored: StoredJob, d: JobDraft, observedAt: number) => number | undefined;

/** Position in one attempt's lifecycle: validating < queued < in_progress < any terminal status. */
export const LIFECYCLE_RANK: Readonly<Record<KnownJobStatus, number>> = {
  validating: 0,
  queued: 1,
  in_progress: 2,
  completed: 3,
  failed: 3,
  cancelled: 3,
  expired: 3,
};

/** The lifecycle rank of a status; undefined for a status this version does not know (it cannot be ordered). */
function rankOf(status: JobStatus): number | undefined {
  return isKnownStatus(status) ? LIFECYCLE_RANK[status] : undefined;
}

const cmp = (a: number | null, b: number | null): number | undefined =>
  a === null || b === null || a === b ? undefined : a > b ? 1 : -1;

/**
 * The job's own timestamps. A retry restarts the lifecycle (started_at and completed_at are cleared, then
 * set anew, later): a later `started_at` or `completed_at` is a later attempt. Within one attempt (the same
 * `started_at`), the further lifecycle position is the newer state: a late page that still says
 * `in_progress` never undoes the `completed` a quicker one committed.
 */
export const byLifecycle: RecencyCheck = (s, d) => {
  const attempt = cmp(d.startedAt, s.startedAt) ?? cmp(d.completedAt, s.completedAt);
  if (attempt !== undefined) return attempt;
  // An attempt that ended before the other one started is the earlier one (a job cancelled while queued has
  // no started_at: its completed_at still places it before a later attempt that is running). Only across
  // attempts: within one (the same started_at), timestamps out of order are upstream's noise, not an order.
  if (d.startedAt !== s.startedAt) {
    if (d.completedAt !== null && s.startedAt !== null && d.completedAt < s.startedAt) return -1;
    if (s.completedAt !== null && d.startedAt !== null && s.completedAt < d.startedAt) return 1;
  }
  if (s.startedAt !== null && s.startedAt === d.startedAt) return rankDiff(s, d);
  return undefined;
};

function rankDiff(s: StoredJob, d: JobDraft): number | undefined {
  const from = rankOf(s.status);
  const to = rankOf(d.status);
  return from === undefined || to === undefined ? undefined : to - from;
}

/**
 * The retry counters Retab's newer API sends (May 2026): `attempt_count` and `last_attempt_at` (columns).
 * Both only ever grow (a retry adds one when the new attempt starts), so when both
 * observations carry one, a higher value is a later attempt and a lower one an earlier attempt, whatever the
 * clocks say: a late `queued` page of attempt 1 never undoes the `cancelled` of attempt 1 once attempt 2 is
 * stored, and a retry is never taken for a late page. Equal counters decide nothing (a retry goes back to
 * `queued` before its count rises): byLifecycle, then the clock, do.
 */
export const byAttemptCount: RecencyCheck = (s, d) =>
  (attemptOrder(s, d) || undefined) ?? cmp(d.lastAttemptAt, s.lastAttemptAt);

/**
 * The clock: when the observations' requests were sent. Equal times (a manual test clock) let the later write
 * win, as the later write cannot have been sent earlier by this process.
 */
export const bySendTime: RecencyCheck = (s, _d, observedAt) => (observedAt < s.observedAt ? -1 : 1);

/**
 * "Which observation is newer", in order: the first check that answers decides. Where the job itself says
 * which state is newer, that wins over any clock (machines' clocks disagree; a response can be read late).
 * The retry counter Retab's newer API sends comes first (`byAttemptCount`), then the lifecycle timestamps,
 * then the clock.
 */
export const RECENCY_CHECKS: readonly RecencyCheck[] = [byAttemptCount, byLifecycle, bySendTime];

/** > 0 when the observation is newer than the stored state, < 0 when older (see RECENCY_CHECKS). */
export function recency(stored: StoredJob, d: JobDraft, observedAt: number): number {
  for (const check of RECENCY_CHECKS) {
    const r = check(stored, d, observedAt);
    if (r !== undefined && r !== 0) return r;
  }
  return 1;
}

/**
 * Which observation the job itself says is newer, by `attempt_count` (a retry adds one; it never goes back):
 * 1 when the incoming one is a later attempt, -1 an earlier one, 0 when they agree or either is unknown.
 * It outranks every clock: a later attempt is newer whenever it was observed, an earlier one is stale.
 */
export function attemptOrder(s: StoredJob, d: JobDraft): number {
  if (s.attemptCount === null || d.attemptCount === null) return 0;
  return Math.sign(d.attemptCount - s.attemptCount);
}

export function mergeObservation(
  stored: StoredJob | undefined,
  d: JobDraft,
  observedAt: number,
  payloads: PayloadsIncluded = NONE,
): MergePlan {
  if (!stored) return insertPlan(d, observedAt, payloads);
  const s = stored;
  const attempts = attemptOrder(s, d);
  if (recency(s, d, observedAt) < 0) return stalePlan(s, d);

  const cycle =
    s.status === d.status &&
    (attempts > 0 ||
      (isTerminal(d.status) &&
        s.completedAt !== null &&
        d.completedAt !== null &&
        s.completedAt !== d.completedAt));
  const moved = s.status !== d.status || cycle;
  // A rising count: a new attempt started in between, which the shortest walk alone may skip.
  const walk = () =>
    (attempts > 0 ? retrySteps(s.status, d.status) : null) ?? transitionSteps(s.status, d.status);
  const steps = moved ? timeSteps(walk(), d, observedAt) : [];
  const last = steps[steps.length - 1];
  const request = d.request !== null && !s.hasRequest ? d.request : null;
  const response = d.response !== null && (!s.hasResponse || moved) ? d.response : null;
  // Upstream columns: the observation's, absent is not null (jobColumns.ts `keepWhenNull`); the rest is this
  // rule's bookkeeping.
  const next = mergeColumns(s, d, {
    hasRequest: s.hasRequest || requestKnown(d, payloads),
    hasResponse: s.hasResponse || responseKnown(d, payloads),
    firstSeenAt: s.firstSeenAt,
    lastSeenAt: Math.max(s.lastSeenAt, observedAt),
    // The job may prove a state newer than a clock says (byLifecycle): the stored date never moves back.
    observedAt: Math.max(s.observedAt, observedAt),
    statusChangedAt: last ? last.occurredAt : s.statusChangedAt,
    // A 404 recorded after this observation still stands; an observation at or after it means it is back.
    upstreamMissingAt:
      s.upstreamMissingAt !== null && observedAt < s.upstreamMissingAt ? s.upstreamMissingAt : null,
  });
  // A change is any column but the seen/observed times (jobColumns.ts `touch`), a payload, or a status step.
  const changed = request !== null || response !== null || moved || columnsChanged(s, next);
  return {
    kind: changed ? 'update' : 'touch',
    next,
    request,
    response,
    rewriteFiles: request !== null,
    rewriteMetadata: next.metadata !== s.metadata,
    steps,
  };
}
