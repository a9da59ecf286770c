/**
 * `sim.store`: the ground truth and the write operations of the simulator (create, cancel, retry, remove),
 * with the upstream's validation and refusals. The HTTP routes call these same methods.
 */
import * as z from 'zod';
import { ENDPOINTS, isTerminal, type Job, MAX_METADATA_PAIRS } from '../retab/index.ts';
import { notFound, SimulatorError } from './errors.ts';
import { type JobIndex, postedRecord } from './jobIndex.ts';
import type { Lifecycle } from './lifecycle.ts';
import { INCLUDE_ALL, type IncludeOptions, type SimJob, toJob } from './simJob.ts';

export const MAX_METADATA_KEY_LENGTH = 64;
export const MAX_METADATA_VALUE_LENGTH = 512;

export const CreateJobSchema = z.object({
  endpoint: z.enum(ENDPOINTS),
  request: z.record(z.string(), z.unknown()),
  metadata: z
    .record(z.string().min(1).max(MAX_METADATA_KEY_LENGTH), z.string().max(MAX_METADATA_VALUE_LENGTH))
    .refine((m) => Object.keys(m).length <= MAX_METADATA_PAIRS, {
      message: `metadata can hold at most ${MAX_METADATA_PAIRS} pairs`,
    })
    .nullish(),
});
export type CreateJobInput = z.input<typeof CreateJobSchema>;

export class SimStore {
  /** `sync` catches a realtime clock up before each operation, so reads and writes are never a tick stale. */
  constructor(
    private readonly index: JobIndex,
    private readonly lifecycle: Lifecycle,
    readonly organizationId: string,
    private readonly sync: () => void = () => {},
  ) {}

  get size(): number {
    return this.index.byId.size;
  }

  /** Every job, full (request and response included), in ascending listing order. */
  all(): Job[] {
    this.sync();
    return this.index.ordered.map((rec) => toJob(rec, this.organizationId, INCLUDE_ALL));
  }

  get(id: string, include: IncludeOptions = INCLUDE_ALL): Job | undefined {
    this.sync();
    const rec = this.index.byId.get(id);
    return rec && toJob(rec, this.organizationId, include);
  }

  /** Like `POST /v1/jobs`: a new `validating` job at the current simulated time. Throws a 422 when invalid. */
  create(input: CreateJobInput): Job {
    this.sync();
    const parsed = CreateJobSchema.safeParse(input);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => ({
        type: i.code,
        loc: ['body', ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))],
        msg: i.message,
      }));
      throw new SimulatorError(422, { detail }, `invalid job: ${detail.map((d) => d.msg).join('; ')}`);
    }
    const { endpoint, request, metadata } = parsed.data;
    const meta = metadata && Object.keys(metadata).length > 0 ? metadata : null;
    const rec = postedRecord(
      this.lifecycle.newId(),
      Math.floor(this.lifecycle.now() / 1000),
      endpoint,
      request,
      meta,
      this.lifecycle.nextSeed(),
    );
    this.lifecycle.admit(rec);
    return toJob(rec, this.organizationId, { includeRequest: true, includeResponse: false });
  }

  /** Like `POST /v1/jobs/{id}/cancel`: any in-flight job → `cancelled`; 404 unknown, 409 already terminal. */
  cancel(id: string): Job {
    const rec = this.require(id);
    if (isTerminal(rec.status)) {
      throw SimulatorError.of(
        409,
        'invalid_job_state',
        `Job ${id} is ${rec.status} and cannot be cancelled.`,
        {
          id,
          status: rec.status,
        },
      );
    }
    this.lifecycle.cancel(rec);
    return toJob(rec, this.organizationId, INCLUDE_ALL);
  }

  /** Like `POST /v1/jobs/{id}/retry`: failed | cancelled | expired → `queued`, same id and created_at. */
  retry(id: string): Job {
    const rec = this.require(id);
    if (rec.status === 'completed') {
      throw SimulatorError.of(
        400,
        'job_not_retryable',
        `Job ${id} completed; only failed, cancelled or expired jobs can be retried.`,
        {
          id,
          status: rec.status,
        },
      );
    }
    if (!isTerminal(rec.status)) {
      throw SimulatorError.of(
        409,
        'invalid_job_state',
        `Job ${id} is still ${rec.status}; retry it once it has failed, been cancelled or expired.`,
        {
          id,
          status: rec.status,
        },
      );
    }
    this.lifecycle.retry(rec);
    return toJob(rec, this.organizationId, INCLUDE_ALL);
  }

  /** Deletes a job, as upstream retention does: later retrieves answer 404 and cursors on it 400. */
  remove(id: string): boolean {
    const rec = this.index.byId.get(id);
    if (!rec) return false;
    this.index.delete(rec);
    return true;
  }

  private require(id: string): SimJob {
    this.sync();
    const rec = this.index.byId.get(id);
    if (!rec) throw notFound(id);
    return rec;
  }
}
