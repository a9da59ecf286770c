/**
 * The list filters of `GET /v1/jobs` as flags, shared by `jobs list`, `stats` and `export`: named like
 * Retab's CLI, repeatable where the API takes several values. Their values are checked by the API's own
 * parser when the command runs (exportCommand.ts `filterFlagsToQuery`, `parseOrExit`).
 */
import type { Command } from 'commander';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The list filters as flags (`--status`, `--document-type` repeatable, `--metadata key=value` repeatable…). */
export function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--id <id>', 'exact job id')
    .option('--status <status>', 'validating, queued, in_progress, completed, failed, cancelled or expired')
    .option('--endpoint <endpoint>', 'e.g. /v1/documents/extract')
    .option('--source <source>', 'api, project or workflow')
    .option('--project-id <id>', 'request.project_id')
    .option('--workflow-id <id>', 'metadata.workflow_id')
    .option('--workflow-node-id <id>', 'metadata.workflow_node_id (or node_id)')
    .option('--model <model>', 'request.model')
    .option('--filename-regex <pattern>', 'whole filename matches (case-insensitive, RE2)')
    .option('--filename-contains <text>', 'case-insensitive substring of a filename')
    .option('--document-type <type>', 'file extension, repeatable or comma-joined (pdf, png…)', collect)
    .option('--from-date <YYYY-MM-DD>', 'created on or after this UTC day')
    .option('--to-date <YYYY-MM-DD>', 'created on or before this UTC day')
    .option('--metadata <key=value>', 'metadata pair that must match, repeatable', collect);
}
