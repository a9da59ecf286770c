/**
 * A job's page beyond `GET /v1/jobs/{id}`: its whole event history from the outbox, oldest first (read
 * through the `job_events (job_id, seq)` index), and the stored sizes of its request and response, so the
 * page can offer to load a large payload instead of loading it.
 */
import type { MirrorStore } from '../mirror/index.ts';

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

export async function readJobTimeline(store: MirrorStore, jobId: string): Promise<JobTimeline | undefined> {
  const trace = await store.views.jobTrace(jobId);
  if (!trace) return undefined;
  const { events, ...sizes } = trace;
  return {
    jobId,
    ...sizes,
    events: events.map((e) => ({
      seq: e.seq,
      eventId: e.eventId,
      type: e.type,
      from: e.from,
      to: e.to,
      occurredAt: e.occurredAt,
      observedAt: e.observedAt,
      inferred: e.inferred,
      backfill: e.backfill,
    })),
  };
}
