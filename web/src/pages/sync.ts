/** Sync: lag against the schedule, the last runs of each partition, upstream answers by HTTP status, quarantine. */

import type { SyncView } from '../../../src/console/wire.ts';
import { getJson } from '../api.ts';
import { colorOf, stackedBars } from '../charts.ts';
import { append, clear, fmtDuration, fmtTime, h, section, table } from '../dom.ts';

interface Schedulers {
  redis: { url?: string; reachable: boolean; error?: string };
  schedulers?: { id: string; everyMs: number | null; nextRunAt: number | null }[];
  queue?: Record<string, number> | null;
}

const outcome = (o: string) => h('span', { class: `badge outcome-${/^[a-z]+$/.test(o) ? o : 'other'}` }, o);

export async function renderSync(
  main: HTMLElement,
  _params: URLSearchParams,
  signal: AbortSignal,
): Promise<void> {
  const data = await getJson<SyncView>('/console/api/sync', signal);
  const chart = h('div', { class: 'chart', id: 'chart-upstream' });
  const schedulers = h('div', {}, h('p', { class: 'muted' }, 'Asking Redis…'));
  main.append(
    h('h1', {}, 'Sync'),
    section(
      'Sync lag against the schedule',
      table(
        ['task', 'schedule', 'last success', 'lag', 'state'],
        data.lag.map((l) => [
          l.task,
          `every ${fmtDuration(l.everyMs)}`,
          fmtTime(l.lastSuccessAt),
          fmtDuration(l.lagMs),
          l.lagMs === null
            ? h('span', { class: 'badge outcome-running' }, 'never ran')
            : l.late
              ? h('span', { class: 'badge outcome-failed' }, 'late')
              : h('span', { class: 'badge outcome-success' }, 'on time'),
        ]),
      ),
    ),
    section('Upstream answers by HTTP status (last 24 h, retries included)', chart),
    section('Job schedulers (Redis)', schedulers),
    section(
      'Partitions and their last runs',
      table(
        [
          'partition',
          'state',
          'last success',
          'last runs (newest first): outcome · requests · jobs · duration',
        ],
        data.partitions.map((p) => [
          p.partition,
          p.status,
          fmtTime(p.lastSuccessAt),
          h(
            'ul',
            { class: 'runs' },
            p.runs.map((r) =>
              h(
                'li',
                { title: r.error ?? '' },
                outcome(r.outcome),
                ` ${fmtTime(r.startedAt)} · ${r.requests} req · ${r.jobs} jobs · ${fmtDuration(r.durationMs)}`,
                r.error ? h('span', { class: 'error-text' }, ` — ${r.error}`) : null,
              ),
            ),
          ),
        ]),
      ),
    ),
    section(
      'Quarantined items',
      table(
        ['id', 'job', 'partition', 'reason', 'observed'],
        data.quarantine.map((q) => [
          String(q.id),
          q.jobId ?? '—',
          q.partition ?? '—',
          q.reason,
          fmtTime(q.observedAt),
        ]),
      ),
    ),
  );
  const codes = Object.keys(data.upstream.byStatus).sort();
  stackedBars(
    chart,
    data.upstream.buckets,
    codes.map((c, i) => ({
      label: c,
      values: data.upstream.byStatus[c] ?? [],
      color: c === '200' ? '#219653' : colorOf(c, i + 2),
    })),
    'answers',
  );
  getJson<Schedulers>('/console/api/schedulers', signal)
    .then((s) => {
      clear(schedulers);
      append(schedulers, [
        s.redis.reachable
          ? table(
              ['scheduler', 'every', 'next run'],
              (s.schedulers ?? []).map((x) => [x.id, fmtDuration(x.everyMs), fmtTime(x.nextRunAt)]),
            )
          : h(
              'p',
              { class: 'muted' },
              `Redis not reachable: ${s.redis.error ?? 'unknown'} (the sync may run in-process).`,
            ),
        s.queue
          ? h(
              'p',
              { class: 'muted' },
              `Queue: ${Object.entries(s.queue)
                .map(([k, v]) => `${k} ${v}`)
                .join(' · ')}`,
            )
          : null,
      ]);
    })
    .catch((err: Error) => schedulers.replaceChildren(h('p', { class: 'error-text' }, err.message)));
}
