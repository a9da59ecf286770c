import { describe, expect, it } from 'vitest';
import { deriveSource, jobFilenames } from '../../src/retab/jobFields.ts';
import { DOCUMENT_TYPES, type Job, JobSchema, LEGACY_ENDPOINTS, SOURCES } from '../../src/retab/schemas.ts';
import { generateJobs, toJob } from '../../src/simulator/index.ts';

// The data generator: deterministic, realistic mix, every job valid and internally consistent.
const NOW = Date.parse('2026-11-01T12:00:00Z');
const NOW_SEC = NOW / 1000;
const full = { includeRequest: true, includeResponse: true };
const jobs: Job[] = generateJobs(5, 4000, 30, NOW).map((r) => toJob(r, 'org_test', full));

describe('generateJobs', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const again = generateJobs(5, 4000, 30, NOW).map((r) => toJob(r, 'org_test', full));
    expect(again).toEqual(jobs);
    const other = generateJobs(6, 4000, 30, NOW).map((r) => r.id);
    expect(other).not.toEqual(jobs.map((j) => j.id));
  });

  it('gives valid jobs with job_ + 21 url-safe ids, unique and not time-ordered', () => {
    for (const j of jobs) expect(JobSchema.safeParse(j).success).toBe(true);
    expect(jobs.every((j) => /^job_[A-Za-z0-9_-]{21}$/.test(j.id))).toBe(true);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(jobs.length);
    const byTime = jobs.map((j) => j.id);
    expect([...byTime].sort()).not.toEqual(byTime);
  });

  it('covers every endpoint, source and document type, several models, single and multi-document requests', () => {
    expect(new Set(jobs.map((j) => j.endpoint))).toEqual(new Set(LEGACY_ENDPOINTS));
    expect(new Set(jobs.map((j) => deriveSource(j.metadata, j.request)))).toEqual(new Set(SOURCES));
    expect(new Set(jobs.map((j) => j.request?.model)).size).toBeGreaterThanOrEqual(5);
    const types = new Set(
      jobs.flatMap((j) => jobFilenames(j.request).map((f) => f.split('.').pop()?.toLowerCase())),
    );
    expect(types).toEqual(new Set(DOCUMENT_TYPES));
    expect(jobs.some((j) => j.request && 'document' in j.request)).toBe(true);
    expect(jobs.some((j) => Array.isArray(j.request?.documents) && j.request.documents.length > 1)).toBe(
      true,
    );
    const keys = new Set(jobs.flatMap((j) => Object.keys(j.metadata ?? {})));
    for (const k of ['batch_id', 'customer', 'workflow_id', 'workflow_node_id', 'node_id'])
      expect(keys).toContain(k);
    expect(jobs.some((j) => j.metadata === null)).toBe(true);
  });

  it('spreads jobs over the days, many sharing a second; old ones terminal, recent ones in every active status', () => {
    const oldest = Math.min(...jobs.map((j) => j.created_at));
    expect(oldest).toBeGreaterThanOrEqual(NOW_SEC - 30 * 86_400);
    expect(oldest).toBeLessThan(NOW_SEC - 28 * 86_400);
    const perSecond = new Map<number, number>();
    for (const j of jobs) perSecond.set(j.created_at, (perSecond.get(j.created_at) ?? 0) + 1);
    expect([...perSecond.values()].filter((n) => n > 1).length).toBeGreaterThan(100);
    const old = jobs.filter((j) => j.created_at < NOW_SEC - 7 * 86_400);
    expect(new Set(old.map((j) => j.status))).toEqual(
      new Set(['completed', 'failed', 'cancelled', 'expired']),
    );
    const recent = jobs.filter((j) => j.created_at > NOW_SEC - 900);
    for (const s of ['validating', 'queued', 'in_progress', 'completed'])
      expect(recent.map((j) => j.status)).toContain(s);
  });

  it('keeps timestamps, responses and errors consistent with the status', () => {
    for (const j of jobs) {
      expect(j.expires_at).toBe(j.created_at + 7 * 86_400);
      expect(j.started_at ?? j.created_at).toBeGreaterThanOrEqual(j.created_at);
      expect(j.completed_at ?? NOW_SEC).toBeGreaterThanOrEqual(j.started_at ?? j.created_at);
      expect(j.completed_at ?? 0).toBeLessThanOrEqual(NOW_SEC);
      expect(j.response !== null).toBe(j.status === 'completed');
      expect(j.error !== null).toBe(j.status === 'failed');
      if (j.status === 'expired') expect(j.completed_at).toBe(j.expires_at);
    }
  });

  it('builds ~1–3 KB request payloads, the same bytes on every call', () => {
    const sizes = jobs.map((j) => JSON.stringify(j.request).length).sort((a, b) => a - b);
    expect(sizes[Math.floor(sizes.length / 2)]).toBeGreaterThan(1000);
    expect(sizes[Math.floor(sizes.length * 0.05)]).toBeGreaterThan(600);
    expect(sizes.at(-1)).toBeLessThan(4000);
    const recs = generateJobs(5, 50, 30, NOW);
    for (const r of recs) expect(toJob(r, 'o', full)).toEqual(toJob(r, 'o', full));
  });
});
