/** Client-side check of list parameters: a bad call fails before anything is sent, naming the parameter. */
import type { z } from 'zod';
import { RetabParamsError } from './errors.ts';
import { plainIssues } from './jobPage.ts';
import { type ListJobsParams, ListJobsParamsSchema } from './schemas.ts';

function issueParams(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') return issue.keys;
  return [issue.path.length > 0 ? String(issue.path[0]) : '(params)'];
}

/**
 * Check list params before anything is sent (limit 1–100, `include_response` only with limit ≤ 20, dates,
 * enums, metadata string→string, no unknown keys). Throws `RetabParamsError` naming each bad parameter.
 */
export function validateListParams(params: ListJobsParams = {}): ListJobsParams {
  const result = ListJobsParamsSchema.safeParse(params);
  if (result.success) return result.data;
  const names: string[] = [];
  const parts: string[] = [];
  for (const issue of result.error.issues) {
    const ps = issueParams(issue);
    for (const p of ps) if (!names.includes(p)) names.push(p);
    const sub = issue.path.length > 1 ? `.${issue.path.slice(1).map(String).join('.')}` : '';
    parts.push(`${ps.join(', ')}${sub}: ${issue.message}`);
  }
  throw new RetabParamsError(
    `invalid list parameter ${parts.join('; ')} (no request was sent)`,
    names,
    plainIssues(result.error.issues),
  );
}
