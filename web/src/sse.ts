/**
 * Server-Sent Events over `fetch` (EventSource cannot send the token header): parses `id:`, `event:` and
 * `data:` fields, reconnects with `Last-Event-ID` after a drop, stops on abort.
 */
import { authHeaders } from './api.ts';

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

export function openStream(
  url: string,
  onMessage: (m: SseMessage) => void,
  signal: AbortSignal,
  onState?: (s: string) => void,
): void {
  let lastId: string | null = null;
  const run = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const res = await fetch(url, {
          headers: {
            accept: 'text/event-stream',
            ...authHeaders(),
            ...(lastId ? { 'last-event-id': lastId } : {}),
          },
          signal,
        });
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        onState?.('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i = buf.indexOf('\n\n');
          while (i >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const m: SseMessage = { id: null, event: 'message', data: '' };
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const c = line.indexOf(':');
              const field = c < 0 ? line : line.slice(0, c);
              const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
              if (field === 'id') m.id = v;
              else if (field === 'event') m.event = v;
              else if (field === 'data') data.push(v);
            }
            if (data.length > 0) {
              m.data = data.join('\n');
              if (m.id !== null) lastId = m.id;
              onMessage(m);
            }
            i = buf.indexOf('\n\n');
          }
        }
      } catch {
        if (signal.aborted) return;
      }
      onState?.('reconnecting');
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void run();
}

/** One live event, from today's SSE payload (`{ job, from, to, … }`) or the full `MirrorEvent` shape. */
export interface LiveEvent {
  seq: number | null;
  type: string;
  jobId: string;
  from: string | null;
  to: string | null;
  /** Unix ms. */
  at: number | null;
  inferred: boolean;
  backfill: boolean;
  endpoint: string | null;
}

export function toLiveEvent(m: SseMessage): LiveEvent | null {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(m.data) as Record<string, unknown>;
  } catch {
    return null;
  }
  const job = (d.job && typeof d.job === 'object' ? d.job : {}) as Record<string, unknown>;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    seq: num(d.seq) ?? (m.id !== null && /^\d+$/.test(m.id) ? Number(m.id) : null),
    type: str(d.type) ?? m.event,
    jobId: str(d.jobId) ?? str(job.id) ?? '',
    from: str(d.from),
    to: str(d.to) ?? str(job.status),
    at: num(d.occurredAt) ?? num(d.observedAt) ?? num(d.observed_at),
    inferred: d.inferred === true,
    backfill: d.backfill === true,
    endpoint: str(job.endpoint),
  };
}
