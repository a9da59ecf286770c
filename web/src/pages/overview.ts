/** Overview: jobs by status, per bucket stacked by status, failures by endpoint and code, p50/p95 times. */

import type { Overview } from '../../../src/console/wire.ts';
import { getJson } from '../api.ts';
import { colorOf, lines, stackedBars } from '../charts.ts';
import { fmtPct, h, section, statusBadge, table } from '../dom.ts';
import { field, select, textarea } from '../form.ts';
import { formParams, go } from '../route.ts';

const STATUS_ORDER = ['completed', 'failed', 'cancelled', 'expired', 'in_progress', 'queued', 'validating'];
const KEYS = ['from', 'to', 'endpoint', 'source', 'model', 'meta'];

export async function renderOverview(
  main: HTMLElement,
  params: URLSearchParams,
  signal: AbortSignal,
): Promise<void> {
  const q = new URLSearchParams();
  for (const k of KEYS) for (const v of params.getAll(k)) q.append(k, v);
  const data = await getJson<Overview>(`/console/api/overview?${q}`, signal);
  const day = (s: number) => new Date(s * 1000).toISOString().slice(0, 10);

  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Overview filters' },
    field('From (UTC day)', 'from', params.get('from') ?? day(data.from), { type: 'date' }),
    field('To (UTC day)', 'to', params.get('to') ?? day(data.to - 1), { type: 'date' }),
    select('Endpoint', 'endpoint', params.get('endpoint') ?? '', data.choices.endpoint),
    select('Source', 'source', params.get('source') ?? '', data.choices.source),
    select('Model', 'model', params.get('model') ?? '', data.choices.model),
    textarea(
      'Metadata (key=value, one per line)',
      'meta',
      params.getAll('meta').join('\n'),
      'batch_id=batch_001',
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go('overview', formParams(form));
  });

  const statuses = [
    ...STATUS_ORDER.filter((s) => s in data.byStatus),
    ...Object.keys(data.byStatus).filter((s) => !STATUS_ORDER.includes(s)),
  ];
  const counts = h(
    'ul',
    { class: 'status-counts', 'aria-label': 'Jobs by status' },
    h('li', {}, h('span', { class: 'count' }, data.total.toLocaleString('en')), ' jobs'),
    statuses.map((s) =>
      h(
        'li',
        {},
        h('span', { class: 'count' }, (data.byStatus[s] ?? 0).toLocaleString('en')),
        ' ',
        statusBadge(s),
      ),
    ),
  );
  const width = data.bucketSeconds === 86_400 ? 'day' : data.bucketSeconds === 3600 ? 'hour' : '6 hours';
  const perBucket = h('div', { class: 'chart', id: 'chart-jobs' });
  const durations = h('div', { class: 'chart', id: 'chart-duration' });
  const waits = h('div', { class: 'chart', id: 'chart-wait' });
  const maxRate = Math.max(0.0001, ...data.failureByEndpoint.map((r) => r.failureRate ?? 0));

  main.append(
    h('h1', {}, 'Overview'),
    form,
    section('Jobs by status (created in range)', counts),
    section(`Jobs per ${width}, stacked by status`, perBucket),
    h(
      'div',
      { class: 'grid2' },
      section(
        'Failure rate by endpoint',
        table(
          ['endpoint', 'failed', 'completed', 'failure rate'],
          data.failureByEndpoint.map((r) => [
            r.endpoint,
            r.failed.toLocaleString('en'),
            r.completed.toLocaleString('en'),
            h('span', { class: 'bar-cell' }, meter((r.failureRate ?? 0) / maxRate), fmtPct(r.failureRate)),
          ]),
        ),
      ),
      section(
        'Failures by error code',
        table(
          ['error code', 'failed jobs'],
          data.failureByErrorCode.map((r) => [r.code, r.count.toLocaleString('en')]),
        ),
      ),
    ),
    h(
      'div',
      { class: 'grid2' },
      section('Run time p50 / p95 (s)', durations),
      section('Queue wait p50 / p95 (s)', waits),
    ),
  );
  stackedBars(
    perBucket,
    data.buckets,
    statuses.map((s, i) => ({ label: s, values: data.series[s] ?? [], color: colorOf(s, i) })),
    'jobs',
  );
  const pts = (arr: Overview['duration']) => [
    { label: 'p50', values: arr.map((p) => p.p50), color: '#2f80ed' },
    { label: 'p95', values: arr.map((p) => p.p95), color: '#d64545' },
  ];
  lines(durations, data.buckets, pts(data.duration), 'seconds');
  lines(waits, data.buckets, pts(data.queueWait), 'seconds');
}

function meter(fraction: number): HTMLElement {
  const bar = h('span', { class: 'meter', 'aria-hidden': 'true' });
  bar.style.width = `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
  return h('span', { class: 'meter-track' }, bar);
}
