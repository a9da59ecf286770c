/**
 * `createRetabClient`: the Retab Jobs API client the sync engine reads upstream through. List params are
 * checked before anything is sent, every call goes through the one retry loop (`retry.ts`), list pages are
 * validated item by item, and pagination is an async iterator (`pager.ts`).
 */
import type { RequestOptions, RetabClient } from './clientTypes.ts';
import { RetabParamsError } from './errors.ts';
import { parseJob, parseJobPage } from './jobPage.ts';
import { type RetabClientOptions, resolveClientOptions } from './options.ts';
import { iterateJobs, iteratePages } from './pager.ts';
import { serializeListParams } from './params.ts';
import { isKnownStatus, type Job, type ListJobsParams, type RetrieveJobOptions } from './schemas.ts';
import { createTransport } from './transport.ts';
import { validateListParams } from './validateListParams.ts';

/**
 * Build a client. Throws `RetabConfigError` when the API key is missing (naming RETAB_API_KEY) or an option
 * is invalid, so a misconfigured process fails at start-up rather than on its first request.
 */
export function createRetabClient(options: RetabClientOptions): RetabClient {
  const resolved = resolveClientOptions(options);
  const transport = createTransport(resolved);
  const unknownStatuses = new Set<string>();

  /** A status upstream added since this release is kept as given; it is worth one warning per value. */
  function noteStatuses(jobs: readonly Job[]): void {
    for (const job of jobs) {
      if (isKnownStatus(job.status) || unknownStatuses.has(job.status)) continue;
      unknownStatuses.add(job.status);
      resolved.logger.warn(
        { status: job.status, jobId: job.id },
        `upstream sent a job status this version does not know ("${job.status}"): stored as given and treated as in flight; add it to ACTIVE_STATUSES to sweep it`,
      );
    }
  }

  async function listJobs(params: ListJobsParams = {}, opts: RequestOptions = {}) {
    const checked = validateListParams(params);
    const res = await transport.getJson('/jobs', serializeListParams(checked), opts);
    const page = parseJobPage(res.body, 'GET /jobs', checked.before !== undefined ? 'before' : 'after');
    noteStatuses(page.data);
    return page;
  }

  async function retrieveJob(id: string, opts: RetrieveJobOptions & RequestOptions = {}) {
    if (typeof id !== 'string' || id.trim() === '') {
      throw new RetabParamsError('retrieveJob needs a job id such as "job_…" (no request was sent)', ['id']);
    }
    const query = new URLSearchParams();
    if (opts.includeRequest !== undefined) query.set('include_request', String(opts.includeRequest));
    if (opts.includeResponse !== undefined) query.set('include_response', String(opts.includeResponse));
    const path = `/jobs/${encodeURIComponent(id)}`;
    const res = await transport.getJson(path, query, opts);
    const job = parseJob(res.body, `GET ${path}`);
    noteStatuses([job]);
    return job;
  }

  return {
    baseUrl: resolved.baseUrl,
    get requestCount() {
      return transport.requestCount;
    },
    listJobs,
    retrieveJob,
    iterPages: (params, opts) => iteratePages(listJobs, params, opts),
    iterJobs: (params, opts) => iterateJobs(listJobs, params, opts),
  };
}
