/**
 * A dense day swept by two walkers at once: one from its start (`order=asc`, the window's own partition,
 * `window:<day>`), one from its end (`order=desc`, `window:<day>:desc`), until the walks meet. Upstream has no
 * created_at bound finer than a day (`from_date`/`to_date`) and no count, so an interior split point cannot be
 * known without walking; the two ends are the two positions known for free, and meeting needs no estimate.
 *
 * How a day is found dense: the ascending walk's first batch (`WINDOW_BATCH_PAGES` pages) still ends with
 * `has_more`, i.e. the day holds more than one batch of pages. Only then is the tail walker queued
 * (`DaySplit.queueTail`, idempotent); a day of one batch or less is walked alone, with no extra request. Only a
 * closed day is split (upstream's clock past its midnight): an open day still grows at its end.
 *
 * Exactly once: a position is a job's listing key, (created_at, id): `positionOf` encodes it so that byte
 * order is listing order (created_at zero-padded, then the id; upstream breaks created_at ties by id, and the
 * simulator compares ids as strings). Before writing a batch, each walker extends its *claim* atomically
 * (`DaySplit.claim`, one Redis script for the fleet; each page is also claimed as it arrives, without holding
 * up the next request, so a walk stops fetching about one page past the meeting point rather than a batch
 * past it): the ascending walker owns every position up to its
 * claim, the descending one every position from its claim on. A claim that would cross the other walker's
 * fixes the meeting point once and for all (`Meeting`), and from then on `owns` says which side every
 * position belongs to: jobs sharing a created_at on the boundary are told apart by their id, so each is
 * written by exactly one walker and none falls between them. A walker that met writes the jobs it owns and
 * stops. A walker that crashed after a claim and before its write resumes from its checkpoint, still inside
 * its claim, so nothing claimed is ever orphaned.
 */
import type { Job } from '../retab/index.ts';

/** Which walker: from the day's start (asc) or from its end (desc). */
export type WalkSide = 'asc' | 'desc';

/**
 * Where the walks met, fixed by the claim that would have crossed: `by` is the side that made it and `at` the
 * other side's claim. Met by `asc` at B: asc owns positions < B, desc owns ≥ B (B is desc's, already owned);
 * met by `desc` at B: asc owns ≤ B, desc owns > B.
 */
export interface Meeting {
  by: WalkSide;
  at: string;
}

/** The fleet's shared state of one split window (a Redis implementation: src/fleet/daySplit.ts). */
export interface DaySplit {
  /** Queue the walker from the end of this window (its own window job); idempotent. */
  queueTail(): Promise<void>;
  /**
   * Extend `side`'s claim to `position` (asc: all positions ≤ it; desc: all ≥ it), atomically for the fleet.
   * @returns undefined while the walks have not met (the whole claim is this side's), else the meeting.
   */
  claim(side: WalkSide, position: string): Promise<Meeting | undefined>;
}

/** A job's listing key as a string whose byte order is the listing order: `0001764547200:job_…`. */
export function positionOf(job: Pick<Job, 'created_at' | 'id'>): string {
  return `${String(job.created_at).padStart(13, '0')}:${job.id}`;
}

/** Byte-wise comparison (code units; positions are ASCII): the order `claim` uses too. */
export function comparePositions(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether `side` owns `position` once the walks met at `meeting`. */
export function owns(side: WalkSide, position: string, meeting: Meeting): boolean {
  const c = comparePositions(position, meeting.at);
  const ascOwns = meeting.by === 'asc' ? c < 0 : c <= 0;
  return side === 'asc' ? ascOwns : !ascOwns;
}

/**
 * Claim a batch (listing order of `side`) and keep the jobs this side owns.
 * @returns the jobs to write, and whether the walk crossed the meeting point (then it stops after this write).
 */
export async function claimBatch(
  split: DaySplit,
  side: WalkSide,
  jobs: Job[],
): Promise<{ jobs: Job[]; crossed: boolean }> {
  const last = jobs[jobs.length - 1];
  if (!last) return { jobs, crossed: false };
  const meeting = await split.claim(side, positionOf(last));
  if (!meeting) return { jobs, crossed: false };
  const mine = jobs.filter((j) => owns(side, positionOf(j), meeting));
  return { jobs: mine, crossed: mine.length < jobs.length };
}
