/**
 * The sources a job can come from (the list filter `source`; `deriveSource` in jobFields.ts states the rule).
 * A module of its own, free of zod, so the CLI's help can name them without loading the schemas.
 */
export const SOURCES = ['api', 'project', 'workflow'] as const;
export type JobSource = (typeof SOURCES)[number];
