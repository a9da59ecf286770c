/**
 * What `stats` can group by (`--by`, `GET /v1/mirror/stats?by=`). A leaf (no runtime imports), so the CLI's
 * `stats --by` declaration reads it without loading the query code.
 *
 * `last_failure_code` groups by the code of each job's last failed attempt (kept across retries, so a job
 * that failed and then completed still counts under it); `attempts` by `attempt_count` (a retried job has
 * 2 or more; jobs from an upstream that does not send it have none).
 */
export const STATS_GROUP_BY = [
  'status',
  'endpoint',
  'model',
  'source',
  'day',
  'error_code',
  'last_failure_code',
  'attempts',
] as const;
export type StatsGroupBy = (typeof STATS_GROUP_BY)[number];
