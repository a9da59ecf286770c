/** Jobs: every `GET /v1/jobs` filter, cursor paging, and the current filter as CSV or JSON lines. */
import { download, getJson } from '../api.ts';
import { fmtUnix, h, section, statusBadge, table } from '../dom.ts';
import { field, select, textarea } from '../form.ts';
import { formParams, go } from '../route.ts';

interface Job {
  id: string;
  status: string;
  endpoint: string;
  created_at: number;
  completed_at: number | null;
  request: {
    document?: { filename?: unknown };
    documents?: { filename?: unknown }[];
    model?: unknown;
  } | null;
  error: { code?: unknown; message?: unknown } | null;
  metadata: Record<string, string> | null;
}
interface JobList {
  data: Job[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export const STATUSES = [
  'validating',
  'queued',
  'in_progress',
  'completed',
  'failed',
  'cancelled',
  'expired',
];
const SOURCES = ['api', 'project', 'workflow'];
const TEXT_FILTERS: [string, string][] = [
  ['id', 'Job id'],
  ['endpoint', 'Endpoint'],
  ['model', 'Model'],
  ['project_id', 'Project id'],
  ['workflow_id', 'Workflow id'],
  ['workflow_node_id', 'Workflow node id'],
  ['filename_contains', 'Filename contains'],
  ['filename_regex', 'Filename regex (RE2, whole name)'],
  ['document_type', 'Document types (pdf,png…)'],
];
const FILTER_KEYS = [
  'status',
  'source',
  'from_date',
  'to_date',
  'order',
  'limit',
  ...TEXT_FILTERS.map(([k]) => k),
];

/** Filters of the URL as `GET /v1/jobs` parameters (metadata lines → the JSON object the API takes). */
function listQuery(params: URLSearchParams): URLSearchParams {
  const q = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v) q.set(k, v);
  }
  const meta = params.getAll('meta');
  if (meta.length > 0) {
    const obj: Record<string, string> = {};
    for (const pair of meta) {
      const i = pair.indexOf('=');
      if (i > 0) obj[pair.slice(0, i)] = pair.slice(i + 1);
    }
    q.set('metadata', JSON.stringify(obj));
  }
  return q;
}

const filenames = (j: Job): string[] =>
  [j.request?.document?.filename, ...(j.request?.documents ?? []).map((d) => d?.filename)].filter(
    (f): f is string => typeof f === 'string',
  );

export async function renderJobs(
  main: HTMLElement,
  params: URLSearchParams,
  signal: AbortSignal,
): Promise<void> {
  const q = listQuery(params);
  if (!q.has('limit')) q.set('limit', '50');
  for (const k of ['after', 'before']) {
    const v = params.get(k);
    if (v) q.set(k, v);
  }
  q.set('include_request', 'true');
  const list = await getJson<JobList>(`/v1/jobs?${q}`, signal);

  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Job filters' },
    select('Status', 'status', params.get('status') ?? '', STATUSES),
    select('Source', 'source', params.get('source') ?? '', SOURCES),
    field('Created from (UTC day)', 'from_date', params.get('from_date') ?? '', { type: 'date' }),
    field('Created to (UTC day)', 'to_date', params.get('to_date') ?? '', { type: 'date' }),
    TEXT_FILTERS.map(([k, label]) => field(label, k, params.get(k) ?? '')),
    textarea(
      'Metadata (key=value, one per line)',
      'meta',
      params.getAll('meta').join('\n'),
      'batch_id=batch_001',
    ),
    select('Order', 'order', params.get('order') ?? '', ['desc', 'asc'], 'newest first'),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Apply'),
      h('a', { href: '#/jobs', class: 'button secondary' }, 'Clear'),
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go('jobs', formParams(form));
  });

  const filterOnly = new URLSearchParams(
    [...params.entries()].filter(([k]) => k !== 'after' && k !== 'before'),
  );
  const page = (k: 'after' | 'before', id: string | null) => {
    const p = new URLSearchParams(filterOnly);
    if (id) p.set(k, id);
    return `#/jobs?${p}`;
  };
  const backward = params.has('before');
  const hasNewer = params.has('after') || (backward && list.has_more);
  const hasOlder = backward ? true : list.has_more;
  const exportQuery = listQuery(params);
  const exportStatus = h('span', { class: 'notice', id: 'export-status', role: 'status' });
  const exportButton = (format: 'csv' | 'jsonl') =>
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          exportQuery.set('format', format);
          exportStatus.textContent = '';
          try {
            await download(`/console/api/export?${exportQuery}`, `jobs.${format}`);
          } catch (err) {
            exportStatus.textContent = `Download failed: ${(err as Error).message}`;
          }
        },
      },
      `Download ${format.toUpperCase()}`,
    );

  main.append(
    h('h1', {}, 'Jobs'),
    form,
    section(
      'Results',
      h(
        'div',
        { class: 'toolbar' },
        h('span', { id: 'result-count' }, `${list.data.length} jobs on this page`),
        hasNewer && list.first_id
          ? h('a', { href: page('before', list.first_id), class: 'button secondary' }, '← Newer')
          : null,
        hasOlder && list.last_id
          ? h('a', { href: page('after', list.last_id), class: 'button secondary' }, 'Older →')
          : null,
        exportButton('csv'),
        exportButton('jsonl'),
        exportStatus,
      ),
      table(
        ['job', 'status', 'endpoint', 'created (UTC)', 'files', 'error', 'metadata'],
        list.data.map((j) => [
          h('a', { href: `#/jobs/${encodeURIComponent(j.id)}` }, j.id),
          statusBadge(j.status),
          j.endpoint,
          fmtUnix(j.created_at),
          h('span', { class: 'filenames' }, filenames(j).join(', ')),
          typeof j.error?.code === 'string' ? j.error.code : '',
          j.metadata
            ? Object.entries(j.metadata)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')
            : '',
        ]),
      ),
    ),
  );
}
