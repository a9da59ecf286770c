/**
 * The upstream contract (Retab Jobs API), as zod schemas and the types inferred from them.
 * Shared by the client, the simulator, the mirror's query layer and the local server, so that all four
 * agree on what a job and a list call are.
 */
import * as z from 'zod';
import { SOURCES } from './sources.ts';

/** The statuses the contract documents. Upstream may add more: see `JobStatus` and `isKnownStatus`. */
export const JOB_STATUSES = [
  'validating',
  'queued',
  'in_progress',
  'completed',
  'failed',
  'cancelled',
  'expired',
] as const;
export type KnownJobStatus = (typeof JOB_STATUSES)[number];
/**
 * A job's status: one of `JOB_STATUSES`, or a value upstream added since. An unknown status never costs a
 * job: it is stored as given, treated as non-terminal (the job is still swept), and logged once per value.
 */
export type JobStatus = KnownJobStatus | (string & {});

export function isKnownStatus(status: string): status is KnownJobStatus {
  return (JOB_STATUSES as readonly string[]).includes(status);
}

/** Statuses a job can still leave on its own. Terminal ones can still be retried back to `queued`. */
export const ACTIVE_STATUSES = [
  'validating',
  'queued',
  'in_progress',
] as const satisfies readonly KnownJobStatus[];
export const TERMINAL_STATUSES = [
  'completed',
  'failed',
  'cancelled',
  'expired',
] as const satisfies readonly KnownJobStatus[];
/** A status the active sweep lists: one of `ACTIVE_STATUSES`, or an unknown one (non-terminal by rule). */
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number] | (string & {});

/** Only the documented terminal statuses are terminal: an unknown status is treated as in flight. */
export function isTerminal(status: JobStatus): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/**
 * The endpoint names a job can carry. Two families: the original one (`/v1/documents/extract`, …) and the
 * one Retab's clients use since May 2026 (`/v1/extractions`, …; see retab-dev/retab
 * `clients/python/retab/types/jobs.py` `SupportedEndpoint`). Both are accepted as filters; an item with an
 * endpoint outside both is still stored as given.
 */
export const LEGACY_ENDPOINTS = [
  '/v1/documents/extract',
  '/v1/documents/parse',
  '/v1/documents/split',
  '/v1/documents/classify',
  '/v1/schemas/generate',
  '/v1/edit/agent/fill',
  '/v1/edit/templates/fill',
  '/v1/edit/templates/generate',
  '/v1/evals/extract/process',
  '/v1/evals/split/process',
  '/v1/evals/classify/process',
  '/v1/evals/extract/extract',
  '/v1/evals/extract/split',
] as const;

export const CURRENT_ENDPOINTS = [
  '/v1/extractions',
  '/v1/parses',
  '/v1/splits',
  '/v1/partitions',
  '/v1/classifications',
  '/v1/schemas/generate',
  '/v1/files/analyze',
  '/v1/edits',
  '/v1/edits/templates/generate',
  '/v1/evals/extract/process',
  '/v1/evals/extract/extract',
] as const;

export const ENDPOINTS = [...new Set([...LEGACY_ENDPOINTS, ...CURRENT_ENDPOINTS])] as [
  Endpoint,
  ...Endpoint[],
];
export type Endpoint = (typeof LEGACY_ENDPOINTS)[number] | (typeof CURRENT_ENDPOINTS)[number];

export { type JobSource, SOURCES } from './sources.ts';

export const DOCUMENT_TYPES = [
  'bmp',
  'csv',
  'doc',
  'docm',
  'docx',
  'dotm',
  'dotx',
  'eml',
  'gif',
  'heic',
  'heif',
  'htm',
  'html',
  'jpeg',
  'jpg',
  'json',
  'md',
  'mhtml',
  'msg',
  'odp',
  'ods',
  'odt',
  'ots',
  'ott',
  'pdf',
  'png',
  'ppt',
  'pptx',
  'rtf',
  'svg',
  'tif',
  'tiff',
  'tsv',
  'txt',
  'webp',
  'xlam',
  'xls',
  'xlsb',
  'xlsm',
  'xlsx',
  'xltm',
  'xltx',
  'xml',
  'yaml',
  'yml',
] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export const ORDERS = ['asc', 'desc'] as const;
export type Order = (typeof ORDERS)[number];

export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 20;
/** `include_response=true` is only accepted with `limit <= 20`. */
export const MAX_LIMIT_WITH_RESPONSE = 20;
export const MAX_METADATA_PAIRS = 16;
export const JOB_TTL_SECONDS = 7 * 24 * 3600;

const unixSeconds = z.number().int().nonnegative();

export const JobErrorSchema = z.looseObject({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).nullish(),
});
export type JobError = z.infer<typeof JobErrorSchema>;

export const JobResponseSchema = z.looseObject({
  status_code: z.number().int(),
  body: z.unknown(),
});
export type JobResponse = z.infer<typeof JobResponseSchema>;

/** A non-fatal warning attached to a job (`warnings[]`): same shape as an error. */
export const JobWarningSchema = JobErrorSchema;
export type JobWarning = z.infer<typeof JobWarningSchema>;

/**
 * One job as the API returns it. Unknown extra fields are kept (`looseObject`) so the raw payload survives.
 * `request`/`response` are `null` in list items unless `include_request`/`include_response` was asked:
 * null there means "not included", never "erased".
 */
export const JobSchema = z.looseObject({
  id: z.string().regex(/^job_[A-Za-z0-9_-]+$/, 'expected "job_" followed by url-safe characters'),
  object: z.literal('job'),
  status: z.string().min(1).max(100),
  endpoint: z.string().min(1),
  request: z.record(z.string(), z.unknown()).nullish(),
  response: JobResponseSchema.nullish(),
  error: JobErrorSchema.nullish(),
  created_at: unixSeconds,
  started_at: unixSeconds.nullish(),
  completed_at: unixSeconds.nullish(),
  expires_at: unixSeconds,
  organization_id: z.string(),
  metadata: z.record(z.string(), z.string()).nullish(),
  // Since May 2026 (retab-dev/retab e66c97c6, `Job`): optional, so items from before still parse.
  warnings: z.array(JobWarningSchema).nullish(),
  /** An explicit cancellation flag, distinct from `status: "cancelled"` (also set by expiry or clean-up). */
  cancelled: z.boolean().nullish(),
  /** Execution attempts so far (0 until a runner picks the job up); a retry adds one. */
  attempt_count: z.number().int().nonnegative().nullish(),
  last_attempt_at: unixSeconds.nullish(),
  /** The code of the last failed attempt; stays set across retries. */
  last_failure_code: z.string().nullish(),
});
export type Job = z.infer<typeof JobSchema>;

/**
 * The two list envelopes upstream has sent; `data` is left unparsed so one bad item never costs the page.
 * Original: `{object: "list", data, first_id, last_id, has_more}`, `has_more` in the direction of travel.
 * Current (retab-dev/retab e66c97c6, `clients/python/retab/types/pagination.py`): `{data, list_metadata:
 * {before, after}}`, where `after` is the cursor of the next page (null on the last one) and `before` the
 * cursor of the previous one. A body may carry both (the local API and the simulator send the superset).
 */
export const LegacyListEnvelopeSchema = z.object({
  data: z.array(z.unknown()),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});
export const ListMetadataSchema = z.object({
  before: z.string().min(1).nullable(),
  after: z.string().min(1).nullable(),
});
export const CurrentListEnvelopeSchema = z.object({
  data: z.array(z.unknown()),
  list_metadata: ListMetadataSchema,
});
export type ListMetadata = z.infer<typeof ListMetadataSchema>;

/** What the local API and the simulator send: both envelopes at once, so every client version reads them. */
export interface JobList {
  object: 'list';
  data: Job[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
  list_metadata: ListMetadata;
}

const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine(
    (s) =>
      !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    {
      message: 'expected a valid calendar date YYYY-MM-DD',
    },
  );

/**
 * Every parameter of `GET /v1/jobs` (typed form, as a library caller passes it).
 * `workflow_block_id` is accepted as an alias of `workflow_node_id`, and `job_id` (what Retab's clients send
 * since May 2026) as an alias of `id`. `status` takes any status name here, so a client can list a status
 * upstream added after this release; the servers (`parseListQuery`) accept only `JOB_STATUSES`, as upstream.
 */
export const ListJobsParamsSchema = z
  .object({
    before: z.string().min(1).optional(),
    after: z.string().min(1).optional(),
    limit: z.number().int().min(1).max(MAX_LIMIT).optional(),
    order: z.enum(ORDERS).optional(),
    id: z.string().min(1).optional(),
    job_id: z.string().min(1).optional(),
    status: z.string().min(1).max(100).optional(),
    endpoint: z.enum(ENDPOINTS).optional(),
    source: z.enum(SOURCES).optional(),
    project_id: z.string().min(1).optional(),
    workflow_id: z.string().min(1).optional(),
    workflow_node_id: z.string().min(1).optional(),
    workflow_block_id: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    filename_regex: z.string().min(1).optional(),
    filename_contains: z.string().min(1).optional(),
    document_type: z.array(z.enum(DOCUMENT_TYPES)).optional(),
    from_date: isoDay.optional(),
    to_date: isoDay.optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    include_request: z.boolean().optional(),
    include_response: z.boolean().optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.before !== undefined && p.after !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['before'],
        message: '`before` and `after` cannot be used together',
      });
    }
    if (p.id !== undefined && p.job_id !== undefined && p.id !== p.job_id) {
      ctx.addIssue({
        code: 'custom',
        path: ['job_id'],
        message: '`job_id` and `id` name the same filter and disagree; pass one',
      });
    }
    if (p.include_response && (p.limit ?? DEFAULT_LIMIT) > MAX_LIMIT_WITH_RESPONSE) {
      ctx.addIssue({
        code: 'custom',
        path: ['include_response'],
        message: `include_response=true requires limit <= ${MAX_LIMIT_WITH_RESPONSE}`,
      });
    }
  });
export type ListJobsParams = z.input<typeof ListJobsParamsSchema>;

export interface RetrieveJobOptions {
  includeRequest?: boolean;
  includeResponse?: boolean;
}
