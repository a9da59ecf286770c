/**
 * The simulator's job store: every job by id, the listing order (created_at, id), and one sorted index per
 * filterable value (status, endpoint, source, model, project, workflow node, document type, metadata pair),
 * so a list page is a binary search plus a short scan, never a pass over every job.
 */
import { jobFilenames, modelOf, projectId } from '../retab/jobFields.ts';
import type { Job, JobStatus } from '../retab/schemas.ts';
import { INCLUDE_ALL, SimJob, toJob } from './simJob.ts';
import { insertSorted, removeSorted } from './sortedIndex.ts';

/** The index keys a job is filed under. Only `status:` changes during a job's life. */
export function indexKeys(rec: SimJob): string[] {
  const keys = [`status:${rec.status}`, `endpoint:${rec.endpoint}`, `source:${rec.source}`];
  if (rec.model !== null) keys.push(`model:${rec.model}`);
  if (rec.projectId !== null) keys.push(`project:${rec.projectId}`);
  const node = rec.workflowNodeId;
  if (node !== null) keys.push(`node:${node}`);
  for (const t of new Set(rec.documentTypes)) keys.push(`doctype:${t}`);
  if (rec.metadata) for (const [k, v] of Object.entries(rec.metadata)) keys.push(metadataKey(k, v));
  return keys;
}

export function metadataKey(key: string, value: string): string {
  return `meta:${key}\u0000${value}`;
}

export class JobIndex {
  readonly byId = new Map<string, SimJob>();
  /** Every job, ascending by (created_at, id). */
  readonly ordered: SimJob[] = [];
  private readonly indexes = new Map<string, SimJob[]>();

  /** Loads jobs already sorted ascending by (created_at, id), in O(n). */
  load(sorted: readonly SimJob[]): void {
    for (const rec of sorted) {
      this.byId.set(rec.id, rec);
      this.ordered.push(rec);
      for (const key of indexKeys(rec)) this.bucket(key).push(rec);
    }
  }

  /** The jobs filed under `key`, ascending; an empty array when none. */
  index(key: string): readonly SimJob[] {
    return this.indexes.get(key) ?? [];
  }

  private bucket(key: string): SimJob[] {
    let arr = this.indexes.get(key);
    if (!arr) {
      arr = [];
      this.indexes.set(key, arr);
    }
    return arr;
  }

  add(rec: SimJob): void {
    if (this.byId.has(rec.id)) throw new Error(`duplicate job id ${rec.id}`);
    this.byId.set(rec.id, rec);
    insertSorted(this.ordered, rec);
    for (const key of indexKeys(rec)) insertSorted(this.bucket(key), rec);
  }

  delete(rec: SimJob): void {
    if (!this.byId.delete(rec.id)) return;
    removeSorted(this.ordered, rec);
    for (const key of indexKeys(rec)) {
      const arr = this.indexes.get(key);
      if (arr) removeSorted(arr, rec);
    }
  }

  /** Moves a job to another status, keeping the status index in step. */
  setStatus(rec: SimJob, status: JobStatus): void {
    if (rec.status === status) return;
    const from = this.indexes.get(`status:${rec.status}`);
    if (from) removeSorted(from, rec);
    rec.status = status;
    rec.gen++;
    insertSorted(this.bucket(`status:${status}`), rec);
  }
}

/** Builds the record of a job posted through `POST /v1/jobs` (its derived fields come from the request). */
export function postedRecord(
  id: string,
  createdAt: number,
  endpoint: string,
  request: Record<string, unknown>,
  metadata: Record<string, string> | null,
  seed: number,
): SimJob {
  const filenames = jobFilenames(request);
  return new SimJob(
    id,
    createdAt,
    'validating',
    endpoint,
    metadata,
    modelOf(request),
    projectId(request),
    filenames,
    seed,
    structuredClone(request),
  );
}

export function fullJob(rec: SimJob, organizationId: string): Job {
  return toJob(rec, organizationId, INCLUDE_ALL);
}
