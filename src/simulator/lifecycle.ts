/**
 * Job evolution as a discrete-event simulation on the simulated clock: every in-flight job has its next
 * transition scheduled (validating → queued → in_progress → completed | failed, or cancelled, or expired at
 * `expires_at`), and new jobs and retries arrive as Poisson processes. One seeded generator is consumed in
 * event order, so the same seed and the same advances give the same history, however they are split.
 */
import { ACTIVE_STATUSES, isTerminal, type JobStatus } from '../retab/index.ts';
import { Catalog, type EndpointNames, FAILURE_ERRORS } from './catalog.ts';
import { EventQueue } from './eventQueue.ts';
import { burstContext, makeJob, newJobId } from './generate.ts';
import type { JobIndex } from './jobIndex.ts';
import { Random } from './random.ts';
import type { SimJob } from './simJob.ts';

/** How fast jobs move. Times are means of exponential distributions, in simulated seconds. */
export interface LifecycleRates {
  /** New jobs per simulated minute, on average (they come in bursts sharing a second). @default 12 */
  arrivalsPerMinute: number;
  /** @default 2 */
  validatingSeconds: number;
  /** @default 6 */
  queuedSeconds: number;
  /** @default 20 */
  inProgressSeconds: number;
  /** Probability that a job that runs ends `failed` rather than `completed`. @default 0.08 */
  failureRate: number;
  /** Probability that a queued or running job is cancelled before it finishes. @default 0.03 */
  cancelRate: number;
  /** Failed, cancelled or expired jobs retried back to `queued`, per simulated minute. @default 0.5 */
  retriesPerMinute: number;
  /** Probability that a new job gets stuck in `queued` until it expires. @default 0.002 */
  stuckRate: number;
}

export const DEFAULT_RATES: LifecycleRates = {
  arrivalsPerMinute: 12,
  validatingSeconds: 2,
  queuedSeconds: 6,
  inProgressSeconds: 20,
  failureRate: 0.08,
  cancelRate: 0.03,
  retriesPerMinute: 0.5,
  stuckRate: 0.002,
};

const MEAN_BURST = 1.625;
/** Jobs in flight for longer than this when the simulator starts are stuck: only expiry moves them. */
const STUCK_AFTER_SECONDS = 6 * 3600;

type Event =
  | { kind: 'step'; rec: SimJob; gen: number; to: JobStatus; cancelWhileRunning?: boolean }
  | { kind: 'expire'; rec: SimJob }
  | { kind: 'arrival' }
  | { kind: 'retry' };

export class Lifecycle {
  private readonly events = new EventQueue<Event>();
  private readonly rng: Random;
  private readonly catalog: Catalog;
  private nowMs: number;

  constructor(
    private readonly index: JobIndex,
    readonly rates: LifecycleRates,
    seed: number,
    startMs: number,
    endpointNames: EndpointNames = 'legacy',
  ) {
    this.rng = new Random(seed ^ 0x11fec7c1);
    this.catalog = new Catalog(seed, endpointNames);
    this.nowMs = startMs;
    for (const status of ACTIVE_STATUSES) {
      for (const rec of index.lookup('status', status)) {
        this.scheduleExpiry(rec);
        if (this.nowSec() - rec.createdAt < STUCK_AFTER_SECONDS) this.scheduleNext(rec);
      }
    }
    this.scheduleArrival();
    this.scheduleRetry();
  }

  now(): number {
    return this.nowMs;
  }

  private nowSec(): number {
    return Math.floor(this.nowMs / 1000);
  }

  /** Runs every event up to `targetMs`, each at its own time, then sets the clock to `targetMs`. */
  advanceTo(targetMs: number): void {
    if (targetMs < this.nowMs) return;
    for (let ev = this.events.peek(); ev !== undefined && ev.at <= targetMs; ev = this.events.peek()) {
      this.events.pop();
      this.nowMs = Math.max(this.nowMs, ev.at);
      this.run(ev.value);
    }
    this.nowMs = targetMs;
  }

  private run(ev: Event): void {
    switch (ev.kind) {
      case 'arrival':
        this.arrive();
        this.scheduleArrival();
        return;
      case 'retry':
        this.retryOne();
        this.scheduleRetry();
        return;
      case 'expire':
        if (this.live(ev.rec) && !isTerminal(ev.rec.status)) this.moveTo(ev.rec, 'expired');
        return;
      case 'step':
        if (this.live(ev.rec) && ev.rec.gen === ev.gen) {
          this.moveTo(ev.rec, ev.to);
          if (!isTerminal(ev.to)) this.scheduleNext(ev.rec, ev.cancelWhileRunning);
        }
        return;
    }
  }

  private live(rec: SimJob): boolean {
    return this.index.byId.get(rec.id) === rec;
  }

  /** Applies a transition at the current time, with consistent timestamps and error. */
  moveTo(rec: SimJob, to: JobStatus): void {
    const t = this.nowSec();
    if (to === 'queued' || to === 'validating') {
      rec.startedAt = null;
      rec.completedAt = null;
      rec.error = null;
      rec.cancelled = false;
    } else if (to === 'in_progress') {
      rec.startedAt = t;
      rec.attemptCount++;
      rec.lastAttemptAt = t;
    } else {
      rec.completedAt = t;
      if (to === 'expired') rec.completedAt = Math.max(rec.createdAt, Math.min(t, rec.expiresAt));
      rec.error = to === 'failed' ? { ...this.rng.pick(FAILURE_ERRORS) } : null;
      if (rec.error) rec.lastFailureCode = rec.error.code;
      if (to === 'cancelled') rec.cancelled = true;
    }
    this.index.setStatus(rec, to);
  }

  /**
   * Schedules the next step of an active job from its current status. Whether a job gets cancelled is
   * decided once, when it is queued: then it is cancelled while queued or while running, half and half.
   */
  private scheduleNext(rec: SimJob, cancelWhileRunning = false): void {
    const r = this.rates;
    const rng = this.rng;
    const after = (meanSeconds: number) =>
      this.nowMs + Math.max(200, Math.round(rng.exponential(meanSeconds) * 1000));
    const push = (at: number, to: JobStatus, cancelLater = false) =>
      this.events.push(at, {
        kind: 'step',
        rec,
        gen: rec.gen,
        to,
        ...(cancelLater ? { cancelWhileRunning: true } : {}),
      });
    switch (rec.status) {
      case 'validating':
        push(after(r.validatingSeconds), 'queued');
        return;
      case 'queued': {
        if (rng.chance(r.stuckRate)) return;
        const cancel = rng.chance(r.cancelRate);
        if (cancel && rng.chance(0.5)) push(after(r.queuedSeconds), 'cancelled');
        else push(after(r.queuedSeconds), 'in_progress', cancel);
        return;
      }
      case 'in_progress':
        if (cancelWhileRunning) push(after(r.inProgressSeconds / 2), 'cancelled');
        else push(after(r.inProgressSeconds), rng.chance(r.failureRate) ? 'failed' : 'completed');
        return;
      default:
        return;
    }
  }

  private scheduleExpiry(rec: SimJob): void {
    const at = rec.expiresAt * 1000;
    if (at > this.nowMs) this.events.push(at, { kind: 'expire', rec });
  }

  private scheduleArrival(): void {
    const perMinute = this.rates.arrivalsPerMinute / MEAN_BURST;
    if (perMinute > 0)
      this.events.push(this.nowMs + Math.max(1, this.rng.exponential(60_000 / perMinute)), {
        kind: 'arrival',
      });
  }

  private scheduleRetry(): void {
    const perMinute = this.rates.retriesPerMinute;
    if (perMinute > 0)
      this.events.push(this.nowMs + Math.max(1, this.rng.exponential(60_000 / perMinute)), { kind: 'retry' });
  }

  /** A new id, unique in the store. */
  newId(): string {
    let id = newJobId(this.rng);
    while (this.index.byId.has(id)) id = newJobId(this.rng);
    return id;
  }

  nextSeed(): number {
    return this.rng.seed30();
  }

  private arrive(): void {
    const ctx = burstContext(this.rng, this.catalog);
    const size = this.rng.chance(0.75) ? 1 : this.rng.int(2, 5);
    for (let i = 0; i < size; i++) this.admit(makeJob(this.rng, ctx, this.nowSec(), this.newId()));
  }

  /** Adds a new `validating` job and starts its life. */
  admit(rec: SimJob): void {
    this.index.add(rec);
    this.scheduleExpiry(rec);
    this.scheduleNext(rec);
  }

  /** A user retrying one of the most recent failed, cancelled or expired jobs. */
  private retryOne(): void {
    const status = this.rng.weighted({ failed: 70, cancelled: 20, expired: 10 });
    const pool = this.index.lookup('status', status);
    if (pool.length === 0) return;
    const window = Math.min(pool.length, 200);
    const rec = pool[pool.length - 1 - this.rng.int(0, window - 1)];
    if (rec) this.retry(rec);
  }

  /** failed | cancelled | expired → queued, same id and created_at. The caller checks the status. */
  retry(rec: SimJob): void {
    this.moveTo(rec, 'queued');
    this.scheduleExpiry(rec);
    this.scheduleNext(rec);
  }

  cancel(rec: SimJob): void {
    this.moveTo(rec, 'cancelled');
  }
}
