/**
 * The fixed choices of two settings. Free of zod on purpose: the CLI names them in its help (`--log-level`)
 * without loading the configuration schema (src/cli/program.ts).
 */

/** What a sync stores of each job's payloads (`PAYLOAD_MODE`). */
export const PAYLOAD_MODES = ['none', 'request', 'full'] as const;
export type PayloadMode = (typeof PAYLOAD_MODES)[number];
/** pino's levels, and `silent` (`LOG_LEVEL`, `--log-level`). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
