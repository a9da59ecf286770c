/**
 * The upstream contract (Retab Jobs API), as zod schemas and the types inferred from them.
 * Shared by the client, the simulator, the mirror's query layer and the local server, so that all four
 * agree on what a job and a list call are.
 */
import { z } from 'zod';

export const JOB_STATUSES = [
  'validating',
  'queued',
  'in_progress',
  'completed',
  'failed',
  'cancelled',
  'expired',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job can still leave on its own. Terminal ones can still be retried back to `queued`. */
export const ACTIVE_STATUSES = [
  'validating',
  'queued',
  'in_progress',
] as const satisfies readonly JobStatus[];
export const TERMINAL_STATUSES = [
  'completed',
  'failed',
  'cancelled',
  'expired',
] as const satisfies readonly JobStatus[];
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];

export function isTerminal(status: JobStatus): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export const ENDPOINTS = [
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
export type Endpoint = (typeof ENDPOINTS)[number];

export const SOURCES = ['api', 'project', 'workflow'] as const;
export type JobSource = (typeof SOURCES)[number];

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

/**
 * One job as the API returns it. Unknown extra fields are kept (`looseObject`) so the raw payload survives.
 * `request`/`response` are `null` in list items unless `include_request`/`include_response` was asked:
 * null there means "not included", never "erased".
 */
export const JobSchema = z.looseObject({
  id: z.string().regex(/^job_[A-Za-z0-9_-]+$/, 'expected "job_" followed by url-safe characters'),
  object: z.literal('job'),
  status: z.enum(JOB_STATUSES),
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
});
export type Job = z.infer<typeof JobSchema>;

/** The list envelope; `data` is left unparsed here so one bad item never costs the whole page. */
export const JobListEnvelopeSchema = z.object({
  object: z.literal('list'),
  data: z.array(z.unknown()),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});

export interface JobList {
  object: 'list';
  data: Job[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
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
 * `workflow_block_id` is accepted as an alias of `workflow_node_id`.
 */
export const ListJobsParamsSchema = z
  .object({
    before: z.string().min(1).optional(),
    after: z.string().min(1).optional(),
    limit: z.number().int().min(1).max(MAX_LIMIT).optional(),
    order: z.enum(ORDERS).optional(),
    id: z.string().min(1).optional(),
    status: z.enum(JOB_STATUSES).optional(),
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
