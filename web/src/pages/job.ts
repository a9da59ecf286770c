/** One job: its fields, its event history as a timeline, and its payloads loaded only when asked. */
import { getJson } from '../api.ts';
import { clear, fmtBytes, fmtTime, fmtUnix, h, section, statusBadge } from '../dom.ts';

interface Timeline {
  events: {
    seq: number;
    type: string;
    from: string | null;
    to: string | null;
    occurredAt: number;
    observedAt: number;
    inferred: boolean;
    backfill: boolean;
  }[];
  requestBytes: number | null;
  responseBytes: number | null;
  firstSeenAt: number;
  lastSeenAt: number;
  upstreamMissingAt: number | null;
}

export async function renderJob(main: HTMLElement, id: string, signal: AbortSignal): Promise<void> {
  const path = `/v1/jobs/${encodeURIComponent(id)}`;
  const [job, timeline] = await Promise.all([
    getJson<Record<string, unknown>>(path, signal),
    getJson<Timeline>(`/console/api/jobs/${encodeURIComponent(id)}/timeline`, signal),
  ]);
  const str = (v: unknown) =>
    v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
  const error = job.error as { code?: unknown; message?: unknown } | null;
  const fields: [string, Node | string][] = [
    ['id', str(job.id)],
    ['status', statusBadge(str(job.status))],
    ['endpoint', str(job.endpoint)],
    ['created', fmtUnix(job.created_at as number)],
    ['started', fmtUnix(job.started_at as number | null)],
    ['completed', fmtUnix(job.completed_at as number | null)],
    ['expires', fmtUnix(job.expires_at as number | null)],
    ['organization', str(job.organization_id)],
    ['error', error ? `${str(error.code)}: ${str(error.message)}` : '—'],
    ['metadata', job.metadata ? JSON.stringify(job.metadata) : '—'],
    // Retab's retry counters and warnings (newer API versions; absent from older answers).
    ['attempts', str(job.attempt_count)],
    ['last attempt', fmtUnix(job.last_attempt_at as number | null | undefined)],
    ['last failure code', str(job.last_failure_code)],
    [
      'warnings',
      Array.isArray(job.warnings) && job.warnings.length > 0
        ? (job.warnings as { code?: unknown; message?: unknown }[])
            .map((w) => `${str(w.code)}: ${str(w.message)}`)
            .join('; ')
        : '—',
    ],
    ['first seen by the mirror', fmtTime(timeline.firstSeenAt)],
    ['last seen upstream', fmtTime(timeline.lastSeenAt)],
    ['missing upstream since', fmtTime(timeline.upstreamMissingAt)],
  ];

  main.append(
    h('p', {}, h('a', { href: '#/jobs' }, '← Jobs')),
    h('h1', {}, 'Job ', h('code', {}, id)),
    section(
      'Fields',
      h(
        'dl',
        { class: 'fields' },
        fields.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      ),
    ),
    section(
      'History',
      h(
        'ol',
        { class: 'timeline' },
        timeline.events.length === 0 ? h('li', {}, 'no events recorded') : null,
        timeline.events.map((e) =>
          h(
            'li',
            { class: e.inferred ? 'inferred' : '' },
            h('time', {}, fmtTime(e.occurredAt)),
            ' ',
            h('span', { class: 'etype' }, e.type),
            ' ',
            e.from ? statusBadge(e.from) : null,
            e.from ? ' → ' : null,
            e.to ? statusBadge(e.to) : null,
            e.inferred
              ? h(
                  'span',
                  { class: 'tag', title: 'a step the polls did not see, inferred from the next one' },
                  'inferred',
                )
              : null,
            e.backfill ? h('span', { class: 'tag' }, 'backfill') : null,
            h('span', { class: 'muted' }, ` observed ${fmtTime(e.observedAt)} · #${e.seq}`),
          ),
        ),
      ),
    ),
    payload('Request', 'include_request', 'request', timeline.requestBytes, path),
    payload('Response', 'include_response', 'response', timeline.responseBytes, path),
  );
}

/** A collapsed payload: nothing is fetched until the reader asks for it. */
function payload(title: string, flag: string, key: string, bytes: number | null, path: string): HTMLElement {
  const body = h('div', {});
  const load = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        load.disabled = true;
        load.textContent = 'Loading…';
        try {
          const j = await getJson<Record<string, unknown>>(`${path}?${flag}=true`);
          clear(body);
          body.append(h('pre', { class: 'json' }, JSON.stringify(j[key], null, 2)));
        } catch (err) {
          load.disabled = false;
          load.textContent = `Failed: ${(err as Error).message}. Retry`;
        }
      },
    },
    `Load ${title.toLowerCase()} (${fmtBytes(bytes ?? 0)})`,
  );
  body.append(load);
  return h(
    'details',
    { class: 'card payload' },
    h('summary', {}, `${title} JSON`, bytes === null ? ' — not stored' : ` — ${fmtBytes(bytes)}`),
    bytes === null ? h('p', { class: 'muted' }, 'The mirror holds none (see PAYLOAD_MODE).') : body,
  );
}
