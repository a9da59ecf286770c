/** The Retab Jobs API client: public surface. */
export { createRetabClient } from './client.ts';
export type {
  AttemptInfo,
  IterPagesOptions,
  JobPage,
  RejectedItem,
  RequestOptions,
  RetabClient,
} from './clientTypes.ts';
export {
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  InternalServerError,
  InvalidCursorError,
  InvalidResponseError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RetabApiError,
  RetabConfigError,
  RetabError,
  RetabParamsError,
  TimeoutError,
  UnprocessableEntityError,
} from './errors.ts';
export { CLIENT_DEFAULTS, type RetabClientOptions, USER_AGENT } from './options.ts';
export { shouldRetry } from './retry.ts';
export type {
  Job,
  JobStatus,
  JobWarning,
  KnownJobStatus,
  ListJobsParams,
  ListMetadata,
  RetrieveJobOptions,
} from './schemas.ts';
export { isKnownStatus } from './schemas.ts';
