/**
 * Alerts: the live event stream (filter by type and status; pauses while the pointer is over it), each
 * sink's cursor and lag, dead letters with retry and "replay from here", and the rules in force.
 */

import type { AlertsView } from '../../../src/console/wire.ts';
import { EVENT_TYPES } from '../../../src/events/eventModel.ts';
import { getJson, postJson } from '../api.ts';
import { append, fmtTime, h, section, statusBadge, table } from '../dom.ts';
import { type LiveEvent, openStream, toLiveEvent } from '../sse.ts';
import { STATUSES } from './jobs.ts';

const MAX_SHOWN = 200;
/** The outcome of the last action, shown again after the page reloads its data. */
let flash = '';

export async function renderAlerts(
  main: HTMLElement,
  _params: URLSearchParams,
  signal: AbortSignal,
  actions: boolean,
): Promise<void> {
  const data = await getJson<AlertsView>('/console/api/alerts', signal);
  const status = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' }, flash);
  flash = '';
  const say = (text: string) => {
    flash = text;
    status.textContent = text;
  };
  const reload = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

  // ---- live stream
  const typeSel = h(
    'select',
    { id: 'live-type', name: 'type' },
    h('option', { value: '' }, 'all types'),
    EVENT_TYPES.map((t) => h('option', { value: t }, t)),
  );
  const statusSel = h(
    'select',
    { id: 'live-status', name: 'status' },
    h('option', { value: '' }, 'any status'),
    STATUSES.map((s) => h('option', { value: s }, s)),
  );
  const list = h('ol', {
    class: 'live',
    id: 'live-list',
    'aria-live': 'off',
    tabindex: '0',
    'aria-label': 'Live events, newest first',
  });
  const state = h('span', { class: 'muted', id: 'live-state' }, 'connecting…');
  let paused = false;
  const held: LiveEvent[] = [];
  const all: LiveEvent[] = [];
  const matches = (e: LiveEvent) =>
    (!typeSel.value || e.type === typeSel.value) && (!statusSel.value || e.to === statusSel.value);
  const row = (e: LiveEvent) =>
    h(
      'li',
      { 'data-job': e.jobId, class: e.inferred ? 'inferred' : '' },
      h('time', {}, fmtTime(e.at)),
      ' ',
      h('span', { class: 'etype' }, e.type),
      ' ',
      h('a', { href: `#/jobs/${encodeURIComponent(e.jobId)}` }, e.jobId),
      ' ',
      e.from ? statusBadge(e.from) : null,
      e.from ? ' → ' : null,
      e.to ? statusBadge(e.to) : null,
      e.endpoint ? h('span', { class: 'muted' }, ` ${e.endpoint}`) : null,
      e.inferred ? h('span', { class: 'tag' }, 'inferred') : null,
      e.backfill ? h('span', { class: 'tag' }, 'backfill') : null,
    );
  const show = (events: LiveEvent[]) => {
    for (const e of events) if (matches(e)) list.prepend(row(e));
    while (list.childElementCount > MAX_SHOWN) list.lastElementChild?.remove();
  };
  const redraw = () => {
    list.replaceChildren();
    show(all);
  };
  typeSel.addEventListener('change', redraw);
  statusSel.addEventListener('change', redraw);
  const resume = () => {
    paused = false;
    state.textContent = 'live';
    show(held.splice(0));
  };
  list.addEventListener('mouseenter', () => {
    paused = true;
    state.textContent = 'paused (pointer over the list)';
  });
  list.addEventListener('mouseleave', resume);
  list.addEventListener('focusin', () => {
    paused = true;
    state.textContent = 'paused (list focused)';
  });
  list.addEventListener('focusout', resume);
  const since = Math.max(0, data.maxSeq - 50);
  openStream(
    `/v1/mirror/events?since=${since}`,
    (m) => {
      const e = toLiveEvent(m);
      if (!e) return;
      all.push(e);
      if (all.length > 2000) all.splice(0, all.length - 2000);
      if (paused) {
        held.push(e);
        state.textContent = `paused — ${held.length} new`;
      } else show([e]);
    },
    signal,
    (s) => {
      if (!paused) state.textContent = s;
    },
  );

  // ---- sinks and dead letters
  // `fromSeq` undefined: ask where to start (the sink's own row), suggesting its last delivered event.
  const replayButton = (sink: string, fromSeq: number | undefined, label: string, suggest = 1) =>
    actions
      ? h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: async () => {
              let from = fromSeq;
              if (from === undefined) {
                const answer = prompt(`Re-deliver to "${sink}" from which event #?`, String(suggest));
                if (answer === null) return;
                const n = Number(answer.trim());
                if (!Number.isSafeInteger(n) || n < 1) {
                  say(`Replay: "${answer}" is not an event number (1 or more).`);
                  return;
                }
                from = n;
              } else if (!confirm(`Re-deliver to "${sink}" every event from #${from} on?`)) return;
              try {
                const r = await postJson<{ cursor: number }>(
                  `/console/api/sinks/${encodeURIComponent(sink)}/replay`,
                  { fromSeq: from },
                );
                say(`${sink}: cursor set to ${r.cursor}; the dispatcher re-delivers from #${from}.`);
                reload();
              } catch (err) {
                say(`Replay failed: ${(err as Error).message}`);
              }
            },
          },
          label,
        )
      : null;
  const retryButton = (id: number) =>
    actions
      ? h(
          'button',
          {
            type: 'button',
            'data-retry': String(id),
            onclick: async (ev: Event) => {
              const b = ev.currentTarget as HTMLButtonElement;
              b.disabled = true;
              try {
                const r = await postJson<{ ok: boolean; error?: string }>(
                  `/console/api/dead-letters/${id}/retry`,
                  {},
                );
                say(
                  r.ok
                    ? `Dead letter #${id} delivered.`
                    : `Dead letter #${id} failed again: ${r.error ?? ''}`,
                );
                reload();
              } catch (err) {
                say(`Retry failed: ${(err as Error).message}`);
                b.disabled = false;
              }
            },
          },
          'Retry',
        )
      : null;

  append(main, [
    h('h1', {}, 'Alerts'),
    status,
    actions
      ? null
      : h(
          'p',
          { class: 'muted' },
          'Read-only: retry and replay need MIRROR_API_TOKEN set on the server and entered here.',
        ),
    section(
      'Live events',
      h(
        'div',
        { class: 'toolbar' },
        h('label', { for: 'live-type' }, 'Type'),
        typeSel,
        h('label', { for: 'live-status' }, 'New status'),
        statusSel,
        state,
      ),
      list,
    ),
    section(
      'Sinks',
      table(
        ['sink', 'cursor (seq)', 'lag (events)', 'updated', ''],
        data.sinks.map((s) => [
          s.sink,
          String(s.seq),
          String(s.lag),
          fmtTime(s.updatedAt),
          replayButton(s.sink, undefined, 'Replay…', Math.max(1, s.seq)),
        ]),
        `outbox at #${data.maxSeq}`,
      ),
    ),
    section(
      'Dead letters',
      table(
        ['id', 'sink', 'event', 'job', 'attempts', 'failed', 'last error', 'state', ''],
        data.deadLetters.map((d) => [
          String(d.id),
          d.sink,
          `#${d.seq}`,
          d.jobId ? h('a', { href: `#/jobs/${encodeURIComponent(d.jobId)}` }, d.jobId) : '—',
          String(d.attempts),
          fmtTime(d.failedAt),
          h('span', { class: 'error-text' }, d.lastError ?? ''),
          d.resolvedAt
            ? h('span', { class: 'badge outcome-success' }, `resolved ${fmtTime(d.resolvedAt)}`)
            : h('span', { class: 'badge outcome-failed' }, 'unresolved'),
          d.resolvedAt
            ? null
            : h(
                'span',
                { class: 'row-actions' },
                retryButton(d.id),
                replayButton(d.sink, d.seq, 'Replay from here'),
              ),
        ]),
      ),
    ),
    section(
      'Alert rules in force',
      data.rules.length === 0
        ? h('p', { class: 'muted' }, 'No ALERT_RULES: alert sinks receive every live status change.')
        : h('pre', { class: 'json' }, JSON.stringify(data.rules, null, 2)),
      table(
        ['webhook', 'url'],
        data.webhooks.map((w) => [w.name, w.url]),
      ),
    ),
  ]);
}
