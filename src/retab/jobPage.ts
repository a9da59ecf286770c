/**
 * Turning upstream bodies into typed values. A list page is validated item by item so one malformed job
 * never costs the other 99: valid jobs go to `data`, the others to `rejected` with their raw value and a
 * one-line reason. The envelope (cursors, `has_more`) is passed through untouched: cursors stay upstream's.
 */
import type { z } from 'zod';
import type { JobPage, RejectedItem } from './clientTypes.ts';
import { InvalidResponseError } from './errors.ts';
import { type Job, JobListEnvelopeSchema, JobSchema } from './schemas.ts';

const MAX_REASON = 300;

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const text = issues
    .map((i) => {
      const path = i.path.length > 0 ? i.path.map(String).join('.') : '(item)';
      return `${path}: ${i.message}`;
    })
    .join('; ');
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
}

export function plainIssues(issues: readonly z.core.$ZodIssue[]): unknown[] {
  return issues.map((i) => ({ code: i.code, path: [...i.path].map(String), message: i.message }));
}

function readableId(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const id = (raw as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? id : null;
}

/** Validate a `GET /jobs` body: the envelope strictly (else `InvalidResponseError`), each item on its own. */
export function parseJobPage(body: unknown, where: string): JobPage {
  const envelope = JobListEnvelopeSchema.safeParse(body);
  if (!envelope.success) {
    throw new InvalidResponseError(
      `unexpected list envelope (${where}): ${describeIssues(envelope.error.issues)}`,
      { retryable: false, details: plainIssues(envelope.error.issues) },
    );
  }
  const { data: items, ...rest } = envelope.data;
  const data: Job[] = [];
  const rejected: RejectedItem[] = [];
  items.forEach((raw, index) => {
    const item = JobSchema.safeParse(raw);
    if (item.success) data.push(item.data);
    else {
      rejected.push({
        index,
        id: readableId(raw),
        raw,
        reason: describeIssues(item.error.issues),
        issues: plainIssues(item.error.issues),
      });
    }
  });
  return { ...rest, data, rejected };
}

/** Validate a `GET /jobs/{id}` body; a job that does not parse is an `InvalidResponseError`. */
export function parseJob(body: unknown, where: string): Job {
  const job = JobSchema.safeParse(body);
  if (!job.success) {
    throw new InvalidResponseError(`unexpected job body (${where}): ${describeIssues(job.error.issues)}`, {
      retryable: false,
      details: plainIssues(job.error.issues),
    });
  }
  return job.data;
}
