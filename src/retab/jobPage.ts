/**
 * Turning upstream bodies into typed values. A list page is validated item by item so one malformed job
 * never costs the other 99: valid jobs go to `data`, the others to `rejected` with their raw value and a
 * one-line reason. Cursors stay upstream's, whichever envelope carried them (see `LegacyListEnvelopeSchema`
 * and `CurrentListEnvelopeSchema`): the page comes out with both forms filled in, the pager follows
 * `last_id` (forward) or `first_id` (backward) while `has_more`.
 */
import type { z } from 'zod';
import type { JobPage, RejectedItem } from './clientTypes.ts';
import { InvalidResponseError } from './errors.ts';
import {
  CurrentListEnvelopeSchema,
  type Job,
  JobSchema,
  LegacyListEnvelopeSchema,
  type ListMetadata,
} from './schemas.ts';

/** Which way a list call travels: `after` (forward, the default) or `before`. */
export type Direction = 'after' | 'before';

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

interface Envelope {
  items: unknown[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
  list_metadata: ListMetadata;
}

function topLevelKeys(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return Array.isArray(body) ? 'an array' : String(body === null ? 'null' : typeof body);
  }
  const keys = Object.keys(body).slice(0, 12);
  return keys.length === 0 ? 'an empty object' : `keys ${keys.join(', ')}`;
}

/**
 * The cursors of either envelope, in both forms. The current one wins when a body carries both (it is what
 * Retab's own clients read); its cursor in the direction of travel is the `first_id`/`last_id` to follow.
 */
function readEnvelope(body: unknown, dir: Direction, where: string): Envelope {
  const current = CurrentListEnvelopeSchema.safeParse(body);
  if (current.success) {
    const { data: items, list_metadata: meta } = current.data;
    const ids = items.map(readableId);
    const firstRead = ids.find((id) => id !== null) ?? null;
    const lastRead = ids.findLast((id) => id !== null) ?? null;
    return {
      items,
      first_id: meta.before ?? firstRead,
      last_id: meta.after ?? lastRead,
      has_more: meta[dir] !== null,
      list_metadata: meta,
    };
  }
  const legacy = LegacyListEnvelopeSchema.safeParse(body);
  if (legacy.success) {
    const { data: items, first_id, last_id, has_more } = legacy.data;
    // The original envelope only says whether more lies in the direction of travel.
    const list_metadata: ListMetadata =
      dir === 'after'
        ? { before: null, after: has_more ? last_id : null }
        : { before: has_more ? first_id : null, after: null };
    return { items, first_id, last_id, has_more, list_metadata };
  }
  const issues = [...current.error.issues, ...legacy.error.issues];
  throw new InvalidResponseError(
    `unexpected list envelope (${where}): expected \`data\` with \`list_metadata: {before, after}\` or with \`first_id\`, \`last_id\`, \`has_more\`; got ${topLevelKeys(body)} (${describeIssues(issues)})`,
    { retryable: false, details: plainIssues(issues) },
  );
}

/**
 * Validate a `GET /jobs` body: the envelope (either form, else `InvalidResponseError` naming the fields
 * expected), each item on its own. `dir` is the direction of the call, for the current envelope's `has_more`.
 */
export function parseJobPage(body: unknown, where: string, dir: Direction = 'after'): JobPage {
  const { items, ...rest } = readEnvelope(body, dir, where);
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
  return { object: 'list', ...rest, data, rejected };
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
