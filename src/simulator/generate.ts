/**
 * The seedable data generator: N jobs over the last D days, in bursts that share a `created_at` second
 * (batches), with a realistic mix of endpoints, models, sources, document types and metadata. Older jobs
 * are terminal; the newest ones cover every active status.
 */
import { JOB_TTL_SECONDS, type JobStatus } from '../retab/index.ts';
import {
  Catalog,
  CUSTOMERS,
  type EndpointNames,
  FAILURE_ERRORS,
  pickEndpoint,
  pickExtension,
  pickModel,
} from './catalog.ts';
import { Random } from './random.ts';
import { SimJob } from './simJob.ts';

/** What the jobs of one burst share (a batch submitted at once shares customer, endpoint and model). */
export interface BurstContext {
  endpoint: string;
  model: string;
  metadata: Record<string, string> | null;
  projectId: string | null;
  /** Jobs of this endpoint usually take several documents (`documents[]`). */
  multiDocument: boolean;
}

export function newJobId(rng: Random): string {
  return `job_${rng.urlSafe(21)}`;
}

export function burstContext(rng: Random, catalog: Catalog): BurstContext {
  const { endpoint, multiDocument } = pickEndpoint(rng, catalog.endpointNames);
  const model = pickModel(rng);
  const sourceRoll = rng.next();
  const metadata: Record<string, string> = {};
  let projectId: string | null = null;
  if (rng.chance(0.7)) metadata.batch_id = `batch_${rng.urlSafe(10)}`;
  if (rng.chance(0.8)) metadata.customer = rng.pick(CUSTOMERS);
  if (sourceRoll < 0.25) {
    const wf = rng.pick(catalog.workflows);
    metadata.workflow_id = wf.id;
    // Older workflow runs tagged the node as `node_id`; the list filter accepts both.
    metadata[rng.chance(0.7) ? 'workflow_node_id' : 'node_id'] = rng.pick(wf.nodes);
    if (rng.chance(0.5)) projectId = rng.pick(catalog.projects);
  } else if (sourceRoll < 0.55) {
    projectId = rng.pick(catalog.projects);
  }
  if (rng.chance(0.1)) metadata.priority = rng.pick(['high', 'normal', 'low']);
  return {
    endpoint,
    model,
    metadata: Object.keys(metadata).length > 0 ? metadata : null,
    projectId,
    multiDocument,
  };
}

/** One new job of a burst, status `validating`, timestamps unset. */
export function makeJob(rng: Random, ctx: BurstContext, createdAt: number, id: string): SimJob {
  const multi = ctx.multiDocument ? rng.chance(0.6) : rng.chance(0.1);
  const count = multi ? rng.int(2, 4) : 1;
  const exts = count === 1 ? pickExtension(rng) : Array.from({ length: count }, () => pickExtension(rng));
  return new SimJob(
    id,
    createdAt,
    'validating',
    ctx.endpoint,
    ctx.metadata,
    ctx.model,
    ctx.projectId,
    exts,
    rng.seed30(),
  );
}

type Weights = Partial<Record<JobStatus, number>>;

// Status mix by age (constants: computed once, not per job).
const FRESH: Weights = { validating: 25, queued: 35, in_progress: 30, completed: 8, failed: 1, cancelled: 1 };
const RECENT: Weights = { queued: 12, in_progress: 25, completed: 50, failed: 7, cancelled: 6 };
const HOURS: Weights = { queued: 1, in_progress: 2, completed: 84, failed: 9, cancelled: 4 };
const DAYS: Weights = { queued: 0.2, in_progress: 0.2, completed: 86, failed: 9, cancelled: 4.6 };
const PAST_TTL: Weights = { completed: 85, failed: 9, cancelled: 4, expired: 2 };

function statusWeights(ageSeconds: number): Weights {
  if (ageSeconds < 30) return FRESH;
  if (ageSeconds < 900) return RECENT;
  if (ageSeconds < 6 * 3600) return HOURS;
  if (ageSeconds < JOB_TTL_SECONDS) return DAYS;
  return PAST_TTL;
}

/** Gives a job its status at `now` (unix s) and consistent started/completed timestamps. */
export function settleJob(rec: SimJob, rng: Random, now: number, forced?: JobStatus): void {
  const age = Math.max(0, now - rec.createdAt);
  const status = forced ?? (rng.weighted(statusWeights(age) as Record<JobStatus, number>) as JobStatus);
  rec.status = status;
  // Queue wait and run time, squeezed into the job's age so that no timestamp lies in the future.
  const wait = Math.min(age, Math.round(rng.exponential(8)));
  const run = Math.min(age - wait, Math.round(rng.exponential(25) + 1));
  switch (status) {
    case 'validating':
    case 'queued':
      return;
    case 'in_progress':
      rec.startedAt = rec.createdAt + wait;
      break;
    case 'completed':
      rec.startedAt = rec.createdAt + wait;
      rec.completedAt = rec.startedAt + run;
      break;
    case 'failed':
      rec.startedAt = rec.createdAt + wait;
      rec.completedAt = rec.startedAt + run;
      rec.error = { ...rng.pick(FAILURE_ERRORS) };
      rec.lastFailureCode = rec.error.code;
      break;
    case 'cancelled':
      if (rng.chance(0.5)) rec.startedAt = rec.createdAt + wait;
      rec.completedAt = (rec.startedAt ?? rec.createdAt) + Math.min(run, age - wait);
      rec.cancelled = true;
      break;
    case 'expired':
      if (rng.chance(0.3)) rec.startedAt = rec.createdAt + wait;
      rec.completedAt = Math.min(now, rec.expiresAt);
      break;
  }
  // One attempt for every job a runner picked up (no random draw: the generated history stays the same).
  rec.attemptCount = rec.startedAt === null ? 0 : 1;
  rec.lastAttemptAt = rec.startedAt;
}

/** Listing order ascending: `created_at`, then `id`. */
export function compareRecords(a: SimJob, b: SimJob): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * `n` jobs created over the `days` days before `now` (unix ms), sorted ascending by (created_at, id).
 * The same arguments always give the same jobs.
 */
export function generateJobs(
  seed: number,
  n: number,
  days: number,
  now: number,
  endpointNames: EndpointNames = 'legacy',
): SimJob[] {
  const rng = new Random(seed);
  const catalog = new Catalog(seed, endpointNames);
  const nowSec = Math.floor(now / 1000);
  const span = Math.max(1, Math.round(days * 86_400));
  const jobs: SimJob[] = [];
  while (jobs.length < n) {
    // A few percent of bursts land in the last 15 minutes so that recent jobs cover the active statuses.
    const createdAt = rng.chance(0.03) ? nowSec - rng.int(0, 900) : nowSec - rng.int(0, span);
    const ctx = burstContext(rng, catalog);
    const roll = rng.next();
    const size = roll < 0.6 ? 1 : roll < 0.88 ? rng.int(2, 5) : rng.int(6, 40);
    for (let i = 0; i < size && jobs.length < n; i++) {
      // 126 random bits: a collision is not a practical concern (the index still refuses duplicates).
      const rec = makeJob(rng, ctx, createdAt, newJobId(rng));
      settleJob(rec, rng, nowSec);
      jobs.push(rec);
    }
  }
  jobs.sort(compareRecords);
  // The newest three jobs are guaranteed to be in flight, one per active status.
  const forced: JobStatus[] = ['in_progress', 'queued', 'validating'];
  for (let i = 0; i < forced.length && i < jobs.length; i++) {
    const rec = jobs[jobs.length - 1 - i] as SimJob;
    rec.startedAt = null;
    rec.completedAt = null;
    rec.error = null;
    rec.attemptCount = 0;
    rec.lastAttemptAt = null;
    rec.lastFailureCode = null;
    rec.cancelled = false;
    settleJob(rec, rng, nowSec, forced[i]);
  }
  return jobs;
}
