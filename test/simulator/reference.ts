/**
 * A brute-force `GET /v1/jobs` over the ground truth, written from the contract with plain code (no shared
 * helpers), to check the simulator's indexed listing against.
 */
import type { Job } from '../../src/retab/schemas.ts';

export interface RefQuery {
  order?: 'asc' | 'desc';
  id?: string;
  status?: string;
  endpoint?: string;
  source?: string;
  project_id?: string;
  workflow_id?: string;
  workflow_node_id?: string;
  workflow_block_id?: string;
  model?: string;
  filename_regex?: string;
  filename_contains?: string;
  document_type?: string | string[];
  from_date?: string;
  to_date?: string;
  metadata?: string;
}

function filenames(job: Job): string[] {
  const req = job.request as { document?: { filename?: string }; documents?: { filename?: string }[] } | null;
  const out: string[] = [];
  if (req?.document?.filename) out.push(req.document.filename);
  for (const d of req?.documents ?? []) if (d.filename) out.push(d.filename);
  return out;
}

function sourceOf(job: Job): string {
  if (job.metadata?.workflow_id) return 'workflow';
  if (typeof job.request?.project_id === 'string' && job.request.project_id !== '') return 'project';
  return 'api';
}

function regexMatcher(pattern: string): (name: string) => boolean {
  try {
    const re = new RegExp(`^(?:${pattern})$`, 'i');
    return (name) => re.test(name);
  } catch {
    return (name) => name.toLowerCase() === pattern.toLowerCase();
  }
}

export function reference(all: Job[], q: RefQuery): Job[] {
  const types =
    q.document_type === undefined
      ? undefined
      : (Array.isArray(q.document_type) ? q.document_type : [q.document_type]).flatMap((t) =>
          t.split(',').map((x) => x.trim().toLowerCase()),
        );
  const from = q.from_date === undefined ? -Infinity : Date.parse(`${q.from_date}T00:00:00Z`) / 1000;
  const to = q.to_date === undefined ? Infinity : Date.parse(`${q.to_date}T00:00:00Z`) / 1000 + 86_400;
  const meta = q.metadata === undefined ? undefined : (JSON.parse(q.metadata) as Record<string, string>);
  const regex = q.filename_regex === undefined ? undefined : regexMatcher(q.filename_regex);
  const node = q.workflow_node_id ?? q.workflow_block_id;
  const out = all.filter((j) => {
    if (q.id !== undefined && j.id !== q.id) return false;
    if (q.status !== undefined && j.status !== q.status) return false;
    if (q.endpoint !== undefined && j.endpoint !== q.endpoint) return false;
    if (q.source !== undefined && sourceOf(j) !== q.source) return false;
    if (q.project_id !== undefined && j.request?.project_id !== q.project_id) return false;
    if (q.model !== undefined && j.request?.model !== q.model) return false;
    if (q.workflow_id !== undefined && j.metadata?.workflow_id !== q.workflow_id) return false;
    if (node !== undefined && (j.metadata?.workflow_node_id ?? j.metadata?.node_id) !== node) return false;
    if (j.created_at < from || j.created_at >= to) return false;
    if (meta !== undefined && !Object.entries(meta).every(([k, v]) => j.metadata?.[k] === v)) return false;
    const names = filenames(j);
    if (regex !== undefined && !names.some(regex)) return false;
    if (q.filename_contains !== undefined) {
      const needle = q.filename_contains.toLowerCase();
      if (!names.some((n) => n.toLowerCase().includes(needle))) return false;
    }
    if (types !== undefined) {
      const exts = names.map((n) => (n.includes('.') ? n.slice(n.lastIndexOf('.') + 1).toLowerCase() : ''));
      if (!exts.some((e) => types.includes(e))) return false;
    }
    return true;
  });
  const dir = q.order === 'asc' ? 1 : -1;
  return out.sort((a, b) => dir * (a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
}
