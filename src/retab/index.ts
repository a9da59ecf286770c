/** The Retab Jobs API client: public surface. */
export { createRetabClient } from './client.ts';
export { clientFromConfig } from './clientFromConfig.ts';
export type {
  AttemptInfo,
  IterPagesOptions,
  JobPage,
  RejectedItem,
  RequestOptions,
  RetabClient,
} from './clientTypes.ts';
/** Every error class and the helpers that build them: the whole module is the folder's error surface. */
export * from './errors.ts';
export type { FilenameMatcher } from './jobFields.ts';
export {
  dayBounds,
  deriveSource,
  documentTypeOf,
  filenameContainsMatcher,
  filenameRegexMatcher,
  jobFilenames,
  modelOf,
  projectId,
  utcDay,
  workflowNodeId,
} from './jobFields.ts';
export { CSV_HEADER, csvLine, csvRecord, iso, jsonJob } from './jobFormats.ts';
export type { EnvelopeStyle } from './listEnvelope.ts';
export { listBody, supersetList } from './listEnvelope.ts';
export { CLIENT_DEFAULTS, type RetabClientOptions, USER_AGENT } from './options.ts';
export type { NormalizedListParams, ValidationDetail } from './params.ts';
export { normalizeListParams, parseListQuery, queryRecord, rawQuery } from './params.ts';
export {
  type LimiterScope,
  processRequestLimiter,
  type RequestLimiter,
} from './requestLimiter.ts';
export { shouldRetry } from './retry.ts';
export type {
  ActiveStatus,
  Endpoint,
  Job,
  JobError,
  JobList,
  JobResponse,
  JobStatus,
  JobWarning,
  KnownJobStatus,
  ListJobsParams,
  ListMetadata,
  RetrieveJobOptions,
} from './schemas.ts';
export {
  ACTIVE_STATUSES,
  CURRENT_ENDPOINTS,
  DOCUMENT_TYPES,
  ENDPOINTS,
  isKnownStatus,
  isTerminal,
  JOB_STATUSES,
  JOB_TTL_SECONDS,
  LEGACY_ENDPOINTS,
  ListJobsParamsSchema,
  MAX_LIMIT_WITH_RESPONSE,
  MAX_METADATA_PAIRS,
  TERMINAL_STATUSES,
} from './schemas.ts';
export type { JobSource } from './sources.ts';
export { SOURCES } from './sources.ts';
export { validateListParams } from './validateListParams.ts';
