/** Test helpers: jobs in the upstream wire shape, and a fresh mirror file per test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Mirror, openMirror } from '../../src/mirror/index.ts';
import type { EventRow } from '../../src/mirror/sqlite/outbox.ts';
import type { Job } from '../../src/retab/schemas.ts';

let counter = 0;

/** A new valid job id (`job_` + url-safe characters), unique within the test process. */
export function newId(): string {
  counter++;
  return `job_t${process.pid.toString(36)}_${counter.toString(36).padStart(10, '0')}`;
}

export const BASE_CREATED = 1_790_000_000;

/** A queued extraction job with a request (one PDF, a model, a project) unless overridden. */
export function makeJob(over: Partial<Job> & Record<string, unknown> = {}): Job {
  const created = (over.created_at as number | undefined) ?? BASE_CREATED;
  return {
    id: newId(),
    object: 'job',
    status: 'queued',
    endpoint: '/v1/documents/extract',
    request: {
      document: { filename: 'Invoice-001.PDF', url: 'https://files.example/invoice-001.pdf' },
      model: 'retab-small',
      project_id: 'proj_1',
      json_schema: { type: 'object', properties: { total: { type: 'number' } } },
    },
    response: null,
    error: null,
    created_at: created,
    started_at: null,
    completed_at: null,
    expires_at: created + 7 * 86_400,
    organization_id: 'org_test',
    metadata: { customer: 'acme' },
    warnings: null,
    cancelled: false,
    attempt_count: 0,
    last_attempt_at: null,
    last_failure_code: null,
    ...over,
  };
}

/** The same job as a lightweight list item shows it (no request, no response). */
export function light(job: Job, over: Partial<Job> = {}): Job {
  return { ...job, request: null, response: null, ...over };
}

export interface TempMirror {
  mirror: Mirror;
  dir: string;
  path: string;
  cleanup(): void;
}

export function tempMirror(): TempMirror {
  const dir = mkdtempSync(join(tmpdir(), 'retab-mirror-test-'));
  const path = join(dir, 'mirror.db');
  const mirror = openMirror(path);
  return {
    mirror,
    dir,
    path,
    cleanup: () => {
      mirror.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type { EventRow };

export function events(mirror: Mirror, jobId?: string): EventRow[] {
  const sql = `SELECT * FROM job_events ${jobId ? 'WHERE job_id = ?' : ''} ORDER BY seq`;
  const stmt = mirror.sqlite.prepare(sql);
  return (jobId ? stmt.all(jobId) : stmt.all()) as EventRow[];
}

export function count(mirror: Mirror, table: string): number {
  return (mirror.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}
