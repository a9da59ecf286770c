/**
 * How a setting's raw value — a string from the environment, or a JSON value from the config file — is read
 * and refused: the zod building blocks of `SETTINGS` (settings.ts).
 */
import { distance } from 'fastest-levenshtein';
import * as z from 'zod';
import { JOB_STATUSES } from '../retab/index.ts';

/**
 * A whole number from the environment or a config file: plain decimal digits only (`100`, `-1`), so `0x20`,
 * `1e1`, `1.0`, ` 12` or `12abc` are refused with the setting's name rather than read as something else.
 */
const NOT_DECIMAL = 'expected a plain decimal integer (digits only, e.g. 100)';
export const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v),
    z
      // Only the type's own issue says "not a decimal integer": an out-of-range one says its range.
      .number({ error: (issue) => (issue.code === 'invalid_type' ? NOT_DECIMAL : undefined) })
      .min(min, { error: `expected an integer from ${min} to ${max}` })
      .max(max, { error: `expected an integer from ${min} to ${max}` })
      .int({ error: NOT_DECIMAL }),
  );
/**
 * A token compared with what a client sends in a header. HTTP strips a header value's surrounding
 * whitespace, so a token with any could never match: refused at start-up.
 */
export const headerToken = z
  .string()
  .min(1)
  .refine((v) => v === v.trim(), {
    error:
      'has leading or trailing whitespace, which HTTP strips from headers, so no request could ever match it; remove the spaces',
  });
/**
 * The known status a name is a likely typo of: within Levenshtein distance 2 of one of `JOB_STATUSES` and not
 * equal to any. Unknown statuses are otherwise allowed (Retab may add new ones), so `in_progres` is refused
 * with a hint while `paused` is accepted.
 */
export function nearKnownStatus(status: string): string | undefined {
  if ((JOB_STATUSES as readonly string[]).includes(status)) return undefined;
  return JOB_STATUSES.find((known) => distance(status, known) <= 2);
}
/** A comma-separated list (`a, b,c`) from the environment; an array from the config file as is. */
export const csv = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(item),
  );
/** A JSON document from the environment; the value itself from the config file. */
export const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v);
    } catch {
      return v; // let the schema report "expected array/object"
    }
  }, schema);
