/**
 * A deterministic stream of pages that exercises every branch of the merge rule: new jobs, lifecycle steps
 * (some skipped, so inferred ones are emitted), retries with a rising attempt_count, light listings (no
 * request), late (stale) observations, requests filled in later, metadata pairs added and removed, several
 * files per job, jobs listed twice in a page, rejected items and checkpoints. Applied to both stores, the
 * results must be identical.
 */

import type { ApplyPageOptions } from '../../src/mirror/types.ts';
import type { RejectedItem } from '../../src/retab/clientTypes.ts';
import type { Job, JobStatus } from '../../src/retab/schemas.ts';
import { BASE_CREATED, makeJob } from '../mirror/factory.ts';

export interface ScenarioPage {
  jobs: Job[];
  opts: ApplyPageOptions;
}

/** A small seeded generator (mulberry32), so a failure replays exactly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NEXT: Record<string, JobStatus[]> = {
  validating: ['queued', 'in_progress', 'completed'],
  queued: ['in_progress', 'completed', 'failed', 'cancelled'],
  in_progress: ['completed', 'failed', 'cancelled'],
};
const NAMES = [
  'Invoice-001.PDF',
  'scan_2026.png',
  'contract final.docx',
  'data.csv',
  'İstanbul-rapor.pdf',
  'a_b-c.txt',
  'KELVIN_\u212A.pdf',
  '\u017Ftrange 100%.txt',
];

interface State {
  job: Job;
}

export function scenario(seed: number, pages: number, jobsPerPage: number, pool = 80): ScenarioPage[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const states: State[] = [];
  for (let i = 0; i < pool; i++) {
    const created = BASE_CREATED + i * 37;
    const files = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
      filename: `${i}_${pick(NAMES)}`,
      url: 'https://files.example/x',
    }));
    const job = makeJob({
      id: `job_s${seed}_${i.toString(36).padStart(3, '0')}${pick(['', '-x', '_y', 'Z'])}`,
      status: pick(['validating', 'queued', 'in_progress'] as const),
      created_at: created,
      attempt_count: 1,
      metadata: r() < 0.2 ? null : { customer: pick(['acme', 'globex']), batch: `b${i % 5}` },
      request:
        files.length === 1
          ? { document: files[0], model: pick(['m1', 'm2']), project_id: r() < 0.5 ? 'proj_1' : undefined }
          : { documents: files, model: 'm3' },
    });
    if (job.status === 'in_progress') job.started_at = created + 5;
    states.push({ job });
  }
  const out: ScenarioPage[] = [];
  const T0 = 1_795_000_000_000;
  for (let p = 0; p < pages; p++) {
    const observedAt = T0 + p * 1000 - (r() < 0.15 ? 2500 : 0);
    const full = r() < 0.5;
    const jobs: Job[] = [];
    for (let k = 0; k < jobsPerPage; k++) {
      const s = pick(states);
      const j = s.job;
      const roll = r();
      if (roll < 0.35 && NEXT[j.status]) {
        const to = pick(NEXT[j.status] as JobStatus[]);
        j.status = to;
        if (to === 'in_progress' || (to !== 'cancelled' && j.started_at === null))
          j.started_at = j.created_at + 5 + p;
        if (to === 'completed' || to === 'failed' || to === 'cancelled') {
          j.completed_at = j.created_at + 50 + p;
          if (to === 'failed') j.error = { code: 'E_BAD', message: 'bad document' };
          if (to === 'completed') j.response = { status_code: 200, body: { total: p } };
        }
      } else if (roll < 0.45 && (j.status === 'failed' || j.status === 'cancelled')) {
        // A retry: back to queued under the same id, one more attempt.
        j.status = 'queued';
        j.attempt_count = (j.attempt_count ?? 1) + 1;
        j.started_at = null;
        j.completed_at = null;
        j.error = null;
        j.response = null;
        j.last_failure_code = 'E_BAD';
      } else if (roll < 0.55) {
        const md = { ...(j.metadata ?? {}) };
        if (r() < 0.5) delete md.customer;
        else md[`k${Math.floor(r() * 3)}`] = pick(['v1', 'v2', "o'brien"]);
        j.metadata = Object.keys(md).length === 0 ? null : md;
      }
      const snapshot = structuredClone(j);
      jobs.push(full ? snapshot : { ...snapshot, request: null, response: null });
      // Now and then the listing moved under the cursor: the same job twice in a page.
      if (r() < 0.05) jobs.push(structuredClone(jobs[jobs.length - 1] as Job));
    }
    const rejected: RejectedItem[] =
      r() < 0.2
        ? [
            {
              index: 0,
              id: `job_bad_${p}`,
              raw: { id: `job_bad_${p}`, status: 42 },
              reason: 'status: expected string',
              issues: [{ path: ['status'] }],
            },
          ]
        : [];
    out.push({
      jobs,
      opts: {
        observedAt,
        partition: `window:${p % 3}`,
        backfill: p % 7 === 0,
        payloads: full ? { request: true, response: r() < 0.3 } : {},
        rejected,
        checkpoint: {
          partition: `window:${p % 3}`,
          cursor: jobs[jobs.length - 1]?.id ?? null,
          pagesDelta: 1,
          jobsDelta: jobs.length,
        },
      },
    });
  }
  return out;
}
