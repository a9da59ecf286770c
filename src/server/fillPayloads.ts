/**
 * Honest payloads on the local API. A reader that asks for `include_request` / `include_response` gets what the
 * mirror holds; where the mirror lacks a payload (a mirror synced with `PAYLOAD_MODE=request` has no
 * responses, a job first seen by a lightweight listing has no request yet), the server fetches the job from
 * upstream (when it has an API key; at most `maxFetches` jobs per answer), stores it like any observation so
 * the next reader finds it (unless the mirror keeps no payloads: `PAYLOAD_MODE=none`), and answers with it. What it could not fetch stays `null`, and the answer says so
 * in `X-Mirror-Payload: partial` (else `complete`), so a client such as Retab's `wait_for_completion` is never
 * handed a silent `response: null` for a completed job.
 */
import type { Logger } from '../log.ts';
import type { MirrorStore, PayloadWants } from '../mirror/index.ts';
import type { Job, RetabClient } from '../retab/index.ts';
import { mapLimit } from '../sync/index.ts';

/** The response header that says whether every payload asked for is in the answer. */
export const PAYLOAD_HEADER = 'x-mirror-payload';
export type PayloadState = 'complete' | 'partial';

export interface UpstreamPayloads {
  /** Reads jobs with their payloads (`GET /v1/jobs/{id}`); built from the mirror's own API key. */
  client: Pick<RetabClient, 'retrieveJob'>;
  /**
   * A writable connection to the mirror the server reads: fetched payloads are stored for next time. None
   * (a mirror with `PAYLOAD_MODE=none`, which keeps no payloads): they are returned, not stored.
   */
  writer?: MirrorStore | undefined;
  /** Jobs fetched per answer at most (a list page with `include_response` holds at most 20). @default 20 */
  maxFetches?: number;
  /** Fetches in flight at once. @default 4 */
  concurrency?: number;
  /**
   * Longest wait for upstream per answer, ms: what is not fetched by then stays null (`partial`). An upstream
   * that accepts connections and never answers then costs a reader this, not rounds of request timeouts.
   * @default 10000
   */
  deadlineMs?: number;
  logger?: Logger;
}

export const MAX_PAYLOAD_FETCHES = 20;
export const PAYLOAD_DEADLINE_MS = 10_000;

/**
 * Fill the payloads `want`ed into `jobs` (in place) from upstream where the mirror lacks them; returns whether
 * the answer is now complete. Without `upstream` (no API key configured) every gap stays and it is `partial`.
 */
export async function fillPayloads(
  reader: MirrorStore,
  jobs: Job[],
  want: PayloadWants,
  upstream: UpstreamPayloads | undefined,
): Promise<PayloadState> {
  const gaps = await reader.jobs.payloadGaps(
    jobs.map((j) => j.id),
    want,
  );
  if (gaps.length === 0) return 'complete';
  if (!upstream) return 'partial';
  const targets = gaps.slice(0, upstream.maxFetches ?? MAX_PAYLOAD_FETCHES);
  const fetched = new Map<string, Job>();
  // Dated when the requests leave: an answer can then never pass for fresher than what it saw.
  const observedAt = Date.now();
  let failures = 0;
  const signal = AbortSignal.timeout(upstream.deadlineMs ?? PAYLOAD_DEADLINE_MS);
  await mapLimit(targets, upstream.concurrency ?? 4, async (id) => {
    if (signal.aborted) {
      failures++;
      return;
    }
    try {
      fetched.set(
        id,
        await upstream.client.retrieveJob(id, {
          includeRequest: true,
          includeResponse: want.response,
          signal,
        }),
      );
    } catch (err) {
      failures++;
      upstream.logger?.warn({ err, jobId: id }, 'could not fetch a missing payload from upstream');
    }
  });
  if (fetched.size > 0 && upstream.writer) {
    try {
      await upstream.writer.jobs.applyPage([...fetched.values()], {
        observedAt,
        payloads: { request: true, response: want.response },
      });
    } catch (err) {
      // The reader still gets the payloads; the next one fetches them again.
      upstream.logger?.warn({ err }, 'could not store payloads fetched for a reader');
    }
  }
  for (const job of jobs) {
    const got = fetched.get(job.id);
    if (!got) continue;
    if (want.request) job.request = got.request ?? null;
    if (want.response) job.response = got.response ?? null;
  }
  return failures === 0 && targets.length === gaps.length ? 'complete' : 'partial';
}
