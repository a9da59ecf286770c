/**
 * The simulator's job index: every job by id, the listing order (created_at, id), and one sorted array per
 * filterable value (status, endpoint, source, model, project, workflow node, document type, metadata pair),
 * so a list page is a binary search plus a short scan, never a pass over every job.
 */
import { modelOf, projectId } from '../retab/jobFields.ts';
import type { JobStatus } from '../retab/schemas.ts';
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

function bucket(map: Buckets, value: string): SimJob[] {
  let arr = map.get(value);
  if (!arr) {
    arr = [];
    map.set(value, arr);
  }
  return arr;
}

const EMPTY: readonly SimJob[] = [];

export class JobIndex {
  readonly byId = new Map<string, SimJob>();
  /** Every job, ascending by (created_at, id). */
  readonly ordered: SimJob[] = [];
  private readonly fields = new Map<IndexedField, Buckets>(INDEXED_FIELDS.map((f) => [f, new Map()]));
  /** metadata key → value → jobs. */
  private readonly metadata = new Map<string, Buckets>();

  /** Calls `fn` with every bucket a job is filed under. Only the status one changes during a job's life. */
  private buckets(rec: SimJob, fn: (arr: SimJob[]) => void): void {
    const f = this.fields;
    fn(bucket(f.get('status') as Buckets, rec.status));
    fn(bucket(f.get('endpoint') as Buckets, rec.endpoint));
    fn(bucket(f.get('source') as Buckets, rec.source));
    if (rec.model !== null) fn(bucket(f.get('model') as Buckets, rec.model));
    if (rec.projectId !== null) fn(bucket(f.get('project') as Buckets, rec.projectId));
    const node = rec.workflowNodeId;
    if (node !== null) fn(bucket(f.get('node') as Buckets, node));
    const types = rec.documentTypes;
    for (let i = 0; i < types.length; i++) {
      const t = types[i] as string;
      if (types.indexOf(t) === i) fn(bucket(f.get('doctype') as Buckets, t));
    }
    if (rec.metadata) {
      for (const k in rec.metadata) {
        let byValue = this.metadata.get(k);
        if (!byValue) {
          byValue = new Map();
          this.metadata.set(k, byValue);
        }
        fn(bucket(byValue, rec.metadata[k] as string));
      }
    }
  }

  /** Loads jobs already sorted ascending by (created_at, id), in O(n). */
  load(sorted: readonly SimJob[]): void {
    for (const rec of sorted) {
      if (this.byId.has(rec.id)) throw new Error(`duplicate job id ${rec.id}`);
      this.byId.set(rec.id, rec);
      this.ordered.push(rec);
      this.buckets(rec, (arr) => arr.push(rec));
    }
  }

  /** The jobs whose `field` equals `value`, ascending. */
  lookup(field: IndexedField, value: string): readonly SimJob[] {
    return this.fields.get(field)?.get(value) ?? EMPTY;
  }

  /** The jobs whose metadata holds `key: value`, ascending. */
  lookupMetadata(key: string, value: string): readonly SimJob[] {
    return this.metadata.get(key)?.get(value) ?? EMPTY;
  }

  add(rec: SimJob): void {
    if (this.byId.has(rec.id)) throw new Error(`duplicate job id ${rec.id}`);
    this.byId.set(rec.id, rec);
    insertSorted(this.ordered, rec);
    this.buckets(rec, (arr) => insertSorted(arr, rec));
  }

  delete(rec: SimJob): void {
    if (!this.byId.delete(rec.id)) return;
    removeSorted(this.ordered, rec);
    this.buckets(rec, (arr) => removeSorted(arr, rec));
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
