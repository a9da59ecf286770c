/**
 * Upstream's clock, as far as the sync can know it. Every boundary the sync keeps and compares with jobs'
 * `created_at` (head's history floor and watermark, a window's "day closed", the days of `sync
 * --backfill-days N` and of reconcile) is counted on upstream's clock: the machine's may be minutes or days
 * off, and a local "now" ahead of upstream's skips the jobs created in between.
 *
 * Rule (README "Limits and guarantees"): upstream's now is the `Date` header of its latest answer, trusted
 * only within `MAX_UPSTREAM_CLOCK_SKEW_MS` (30 days) of the machine's clock. A header further off (a proxy
 * sending 1970, a broken server clock) is ignored, with a warning, and the machine's clock is used: a bogus
 * header must not make head backfill all history nor keep windows open forever. A job's `created_at` is a
 * lower bound of upstream's now (within the same limit): with no usable header, a newer job wins.
 */
import type { Logger } from '../log.ts';
import type { RequestOptions, RetabClient } from '../retab/index.ts';

/** Largest accepted difference between upstream's `Date` header and the machine's clock, ms (30 days). */
export const MAX_UPSTREAM_CLOCK_SKEW_MS = 30 * 86_400_000;

/**
 * The offset (ms, upstream − machine) a `Date` header implies, or `undefined` when it is missing or further
 * than `MAX_UPSTREAM_CLOCK_SKEW_MS` from `machineNow` (unix ms).
 */
export function trustedClockOffset(serverDate: number | undefined, machineNow: number): number | undefined {
  if (serverDate === undefined || !Number.isFinite(serverDate)) return undefined;
  const offset = serverDate - machineNow;
  return Math.abs(offset) <= MAX_UPSTREAM_CLOCK_SKEW_MS ? offset : undefined;
}

/** One warning line for an ignored `Date` header (shared by the probe and every task). */
export function warnUntrustedDate(log: Logger, serverDate: number, machineNow: number): void {
  log.warn(
    { serverDate: new Date(serverDate).toISOString(), machineNow: new Date(machineNow).toISOString() },
    `upstream's Date header is more than ${MAX_UPSTREAM_CLOCK_SKEW_MS / 86_400_000} days from this machine's clock; ignored (check the clock of this machine or of a proxy in between)`,
  );
}

/** Answers no retry fixes (401 bad key, 403 no access, 404 wrong base URL): the sync cannot start. */
const FATAL_STATUSES = new Set([401, 403, 404]);

/**
 * Upstream's now, unix ms, from one cheap request (`GET /v1/jobs?limit=1`): its trusted `Date` header, at
 * least its newest job's `created_at` (both within the skew bound), else the machine's clock. When upstream
 * cannot be reached the machine's clock is returned, with one warning, and the tasks that follow report the
 * failure themselves; a 401/403/404 (a wrong key or base URL) is not warned about: with `throwFatal` it is
 * thrown (a `RetabApiError`, for the caller to report once), else left to those tasks.
 * @param now the machine's clock, unix ms
 */
export async function probeUpstreamNow(
  client: RetabClient,
  now: () => number,
  log: Logger,
  opts: Pick<RequestOptions, 'signal'> & { throwFatal?: boolean } = {},
): Promise<number> {
  const { throwFatal, ...requestOpts } = opts;
  let offset: number | undefined;
  try {
    const page = await client.listJobs(
      { limit: 1 },
      {
        ...requestOpts,
        onAttempt: (info) => {
          if (info.serverDate === undefined) return;
          const o = trustedClockOffset(info.serverDate, now());
          if (o === undefined) warnUntrustedDate(log, info.serverDate, now());
          else offset = o;
        },
      },
    );
    const machine = now();
    const base = machine + (offset ?? 0);
    const newest = page.data[0]?.created_at;
    if (newest === undefined) return base;
    const newestMs = newest * 1000;
    return trustedClockOffset(newestMs, machine) === undefined ? base : Math.max(base, newestMs);
  } catch (err) {
    const status = (err as { status?: unknown })?.status;
    if (typeof status === 'number' && FATAL_STATUSES.has(status)) {
      if (throwFatal) throw err;
      log.debug({ status }, "could not read upstream's clock; the tasks report why");
      return now();
    }
    log.warn({ err }, "could not read upstream's clock; counting days on this machine's clock");
    return now();
  }
}
