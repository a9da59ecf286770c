/**
 * The simulator's job index: every job by id, the listing order (created_at, id), and one sorted array per
 * filterable value (status, endpoint, source, model, project, workflow node, document type, metadata pair),
 * so a list page is a binary search plus a short scan, never a pass over every job.
 *
 * Status, endpoint and source are indexed at load (the sync's partitions use them). The others are built
 * on their first query, in one O(n) pass over the listing order, then kept up to date: a million jobs start
 * faster and take less memory when nobody filters on, say, `batch_id`.
 */

import type { JobStatus } from '../retab/index.ts';
import { modelOf, projectId } from '../retab/index.ts';
import { SimJob } from './simJob.ts';
import { insertSorted, removeSorted } from './sortedIndex.ts';

export const INDEXED_FIELDS = [
  'status',
  'endpoint',
  'source',
  'model',
  'project',
  'node',
  'doctype',
] as const;
export type IndexedField = (typeof INDEXED_FIELDS)[number];

type Buckets = Map<string, SimJob[]>;
type Filer = (arr: SimJob[], rec: SimJob) => void;

function bucket(map: Buckets, value: string): SimJob[] {
  let arr = map.get(value);
  if (!arr) {
    arr = [];
    map.set(value, arr);
  }
  return arr;
}

/** The values a job is filed under for a field (empty when it has none). */
function fieldValues(rec: SimJob, field: IndexedField): readonly string[] {
  switch (field) {
    case 'status':
      return [rec.status];
    case 'endpoint':
      return [rec.endpoint];
    case 'source':
      return [rec.source];
    case 'model':
      return rec.model === null ? [] : [rec.model];
    case 'project':
      return rec.projectId === null ? [] : [rec.projectId];
    case 'node': {
      const node = rec.workflowNodeId;
      return node === null ? [] : [node];
    }
    case 'doctype':
      return [...new Set(rec.documentTypes)];
  }
}

const EAGER: readonly IndexedField[] = ['status', 'endpoint', 'source'];
const EMPTY: readonly SimJob[] = [];
const push: Filer = (arr, rec) => arr.push(rec);

export class JobIndex {
  readonly byId = new Map<string, SimJob>();
  /** Every job, ascending by (created_at, id). */
  readonly ordered: SimJob[] = [];
  /** Built field indexes: field → value → jobs. */
  private readonly fields = new Map<IndexedField, Buckets>(EAGER.map((f) => [f, new Map()]));
  /** Built metadata indexes: key → value → jobs. */
  private readonly metadata = new Map<string, Buckets>();

  /** Files a job in (or out of) every index built so far. */
  private file(rec: SimJob, filer: Filer): void {
    for (const [field, buckets] of this.fields) {
      for (const v of fieldValues(rec, field)) filer(bucket(buckets, v), rec);
    }
    if (rec.metadata && this.metadata.size > 0) {
      for (const k in rec.metadata) {
        const buckets = this.metadata.get(k);
        if (buckets) filer(bucket(buckets, rec.metadata[k] as string), rec);
      }
    }
  }

  /** Loads jobs already sorted ascending by (created_at, id), in O(n). */
  load(sorted: readonly SimJob[]): void {
    for (const rec of sorted) {
      if (this.byId.has(rec.id)) throw new Error(`duplicate job id ${rec.id}`);
      this.byId.set(rec.id, rec);
      this.ordered.push(rec);
      this.file(rec, push);
    }
  }

  /** The jobs whose `field` equals `value`, ascending. */
  lookup(field: IndexedField, value: string): readonly SimJob[] {
    let buckets = this.fields.get(field);
    if (!buckets) {
      buckets = new Map();
      for (const rec of this.ordered) for (const v of fieldValues(rec, field)) bucket(buckets, v).push(rec);
      this.fields.set(field, buckets);
    }
    return buckets.get(value) ?? EMPTY;
  }

  /** The jobs whose metadata holds `key: value`, ascending. */
  lookupMetadata(key: string, value: string): readonly SimJob[] {
    let buckets = this.metadata.get(key);
    if (!buckets) {
      buckets = new Map();
      for (const rec of this.ordered) {
        const v = rec.metadata?.[key];
        if (v !== undefined) bucket(buckets, v).push(rec);
      }
      this.metadata.set(key, buckets);
    }
    return buckets.get(value) ?? EMPTY;
  }

  add(rec: SimJob): void {
    if (this.byId.has(rec.id)) throw new Error(`duplicate job id ${rec.id}`);
    this.byId.set(rec.id, rec);
    insertSorted(this.ordered, rec);
    this.file(rec, insertSorted);
  }

  delete(rec: SimJob): void {
    if (!this.byId.delete(rec.id)) return;
    removeSorted(this.ordered, rec);
    this.file(rec, removeSorted);
  }

  /** Moves a job to another status, keeping the status index in step. */
  setStatus(rec: SimJob, status: JobStatus): void {
    if (rec.status === status) return;
    const statuses = this.fields.get('status') as Buckets;
    removeSorted(bucket(statuses, rec.status), rec);
    rec.status = status;
    rec.gen++;
    insertSorted(bucket(statuses, status), rec);
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
  return new SimJob(
    id,
    createdAt,
    'validating',
    endpoint,
    metadata,
    modelOf(request),
    projectId(request),
    null,
    seed,
    structuredClone(request),
  );
}
