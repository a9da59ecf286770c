/**
 * Pure derivations from a job that the list filters rely on (source, filenames, document types, workflow
 * node), the filename matchers, and the listing order. The simulator filters with them and the mirror
 * stores their results in indexed columns, so both sides classify a job the same way.
 */
import { RE2JS } from 're2js';
import type { JobSource } from './schemas.ts';

type Metadata = Record<string, string> | null | undefined;
type Request = Record<string, unknown> | null | undefined;

/** `workflow` when `metadata.workflow_id` is set, else `project` when `request.project_id` is set, else `api`. */
export function deriveSource(metadata: Metadata, request: Request): JobSource {
  if (metadata?.workflow_id) return 'workflow';
  if (typeof request?.project_id === 'string' && request.project_id !== '') return 'project';
  return 'api';
}

export function workflowNodeId(metadata: Metadata): string | null {
  return metadata?.workflow_node_id ?? metadata?.node_id ?? null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

export function projectId(request: Request): string | null {
  return str(request?.project_id);
}

export function modelOf(request: Request): string | null {
  return str(request?.model);
}

/** Every filename of a request: `request.document.filename` and each `request.documents[].filename`. */
export function jobFilenames(request: Request): string[] {
  if (!request) return [];
  const names: string[] = [];
  const doc = request.document as { filename?: unknown } | null | undefined;
  if (doc && typeof doc === 'object') {
    const f = str(doc.filename);
    if (f) names.push(f);
  }
  const docs = request.documents;
  if (Array.isArray(docs)) {
    for (const d of docs) {
      if (d && typeof d === 'object') {
        const f = str((d as { filename?: unknown }).filename);
        if (f) names.push(f);
      }
    }
  }
  return names;
}

/** The lower-cased extension of a filename, or null when it has none. */
export function documentTypeOf(filename: string): string | null {
  const dot = filename.lastIndexOf('.');
  if (dot < 0 || dot === filename.length - 1) return null;
  return filename.slice(dot + 1).toLowerCase();
}

export type FilenameMatcher = (filename: string) => boolean;

/**
 * `filename_regex`: the whole name must match, case-insensitively, in linear time (RE2 semantics).
 * A pattern that does not compile (including lookaround and backreferences) is taken as plain text.
 */
export function filenameRegexMatcher(pattern: string): FilenameMatcher {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch {
    re = RE2JS.compile(RE2JS.quote(pattern), RE2JS.CASE_INSENSITIVE);
  }
  return (name) => re.matches(name);
}

/** `filename_contains`: case-insensitive substring. */
export function filenameContainsMatcher(needle: string): FilenameMatcher {
  const n = needle.toLowerCase();
  return (name) => name.toLowerCase().includes(n);
}

/** First second of a UTC day, and the first second of the next one. */
export function dayBounds(day: string): { start: number; end: number } {
  const start = Date.parse(`${day}T00:00:00Z`) / 1000;
  return { start, end: start + 86_400 };
}

export function utcDay(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/** Listing order: `created_at`, ties broken by `id` in the same direction. Negative when a comes first. */
export function compareListingOrder(
  a: { created_at: number; id: string },
  b: { created_at: number; id: string },
  order: 'asc' | 'desc',
): number {
  const c = a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return order === 'asc' ? c : -c;
}
