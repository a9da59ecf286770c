/**
 * `GET /metrics` (Prometheus). Every value is read from the database at scrape time, because the sync that
 * produces them usually runs in another process; each server gets its own Registry.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import type { MetricsSnapshot, MirrorStore } from '../mirror/index.ts';

function counterOf<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  read: () => { labels: Record<L, string>; value: number }[],
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, value } of read()) if (value > 0) this.inc(labels as never, value);
    },
  });
}

/**
 * A registry whose collectors read `snapshot()`: the values the store returned for this scrape
 * (`MirrorStore.views.metrics`, one read per scrape).
 */
export function createMetricsRegistry(
  snapshot: () => MetricsSnapshot,
  now: () => number = Date.now,
): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'retab_mirror_jobs',
    help: 'Mirrored jobs by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of snapshot().jobsByStatus) this.set({ status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'retab_mirror_sync_lag_seconds',
    help: 'Seconds since a sync run last succeeded (NaN before the first success)',
    registers: [registry],
    collect() {
      const t = snapshot().lastSuccessAt;
      this.set(t == null ? Number.NaN : Math.max(0, (now() - t) / 1000));
    },
  });
  counterOf(
    registry,
    'retab_mirror_upstream_requests_total',
    'Upstream HTTP requests made by sync runs',
    [],
    () => [{ labels: {}, value: snapshot().upstreamRequests }],
  );
  counterOf(
    registry,
    'retab_mirror_upstream_responses_total',
    'Upstream answers to sync runs by HTTP status (status="network" when none came), retries included',
    ['status'],
    () => snapshot().upstreamResponses.map((r) => ({ labels: { status: r.status }, value: r.n })),
  );
  counterOf(registry, 'retab_mirror_quarantined_total', 'Upstream items quarantined by sync runs', [], () => [
    { labels: {}, value: snapshot().quarantined },
  ]);
  counterOf(registry, 'retab_mirror_events_total', 'Change events in the outbox by type', ['type'], () =>
    snapshot().eventsByType.map((r) => ({ labels: { type: r.type }, value: r.n })),
  );
  counterOf(
    registry,
    'retab_mirror_sync_runs_total',
    'Sync runs by task and outcome',
    ['task', 'outcome'],
    () => snapshot().runsByOutcome.map((r) => ({ labels: { task: r.task, outcome: r.outcome }, value: r.n })),
  );
  counterOf(
    registry,
    'retab_mirror_sync_run_seconds_total',
    'Total duration of finished sync runs by task (divide by runs for the mean)',
    ['task'],
    () => snapshot().runMsByTask.map((r) => ({ labels: { task: r.task }, value: r.ms / 1000 })),
  );
  new Gauge({
    name: 'retab_mirror_last_run_duration_seconds',
    help: 'Duration of the latest finished sync run of each task',
    labelNames: ['task'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of snapshot().lastRunMsByTask) this.set({ task: r.task }, r.ms / 1000);
    },
  });
  new Gauge({
    name: 'retab_mirror_outbox_seq',
    help: 'Highest event sequence number in the outbox',
    registers: [registry],
    collect() {
      this.set(snapshot().maxSeq);
    },
  });
  return registry;
}

export function registerMetricsRoute(app: FastifyInstance, mirror: MirrorStore): void {
  let current: MetricsSnapshot | undefined;
  const registry = createMetricsRegistry(() => {
    if (!current) throw new Error('metrics collected outside a scrape');
    return current;
  });
  // Scrapes are serialised: each one reads its snapshot, then renders it.
  let queue: Promise<unknown> = Promise.resolve();
  app.get('/metrics', async (_request, reply) => {
    const scrape = queue.then(async () => {
      current = await mirror.views.metrics();
      try {
        return await registry.metrics();
      } finally {
        current = undefined;
      }
    });
    queue = scrape.catch(() => undefined);
    const text = await scrape;
    return reply.header('content-type', registry.contentType).send(text);
  });
}
