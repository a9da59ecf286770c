/**
 * A job's page beyond `GET /v1/jobs/{id}`: its whole event history from the outbox, oldest first (read
 * through the `job_events (job_id, seq)` index), and the stored sizes of its request and response, so the
 * page can offer to load a large payload instead of loading it.
 */
import type Database from 'better-sqlite3';

export interface TimelineEvent {
  seq: number;
  eventId: string;
  type: string;
  from: string | null;
  to: string | null;
  /** Unix ms. */
  occurredAt: number;
  observedAt: number;
  inferred: boolean;
  backfill: boolean;
}

export interface JobTimeline {
  jobId: string;
  events: TimelineEvent[];
  /** Stored payload sizes, bytes of JSON text; null when none is stored. */
  requestBytes: number | null;
  responseBytes: number | null;
  firstSeenAt: number;
  lastSeenAt: number;
  upstreamMissingAt: number | null;
}

export function readJobTimeline(sqlite: Database.Database, jobId: string): JobTimeline | undefined {
  const job = sqlite
    .prepare(
      `SELECT length(request) AS requestBytes, length(response) AS responseBytes, first_seen_at AS firstSeenAt,
              last_seen_at AS lastSeenAt, upstream_missing_at AS upstreamMissingAt FROM jobs WHERE id = ?`,
    )
    .get(jobId) as Omit<JobTimeline, 'jobId' | 'events'> | undefined;
  if (!job) return undefined;
  const rows = sqlite
    .prepare(
      `SELECT seq, event_id, type, from_status, to_status, occurred_at, observed_at, inferred, backfill
       FROM job_events WHERE job_id = ? ORDER BY seq`,
    )
    .all(jobId) as {
    seq: number;
    event_id: string;
    type: string;
    from_status: string | null;
    to_status: string | null;
    occurred_at: number;
    observed_at: number;
    inferred: number;
    backfill: number;
  }[];
  return {
    jobId,
    ...job,
    events: rows.map((r) => ({
      seq: r.seq,
      eventId: r.event_id,
      type: r.type,
      from: r.from_status,
      to: r.to_status,
      occurredAt: r.occurred_at,
      observedAt: r.observed_at,
      inferred: r.inferred === 1,
      backfill: r.backfill === 1,
    })),
  };
}
