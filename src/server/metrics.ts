/**
 * `GET /metrics` (Prometheus). Every value is read from the database at scrape time, because the sync that
 * produces them usually runs in another process; each server gets its own Registry.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Mirror } from '../mirror/openMirror.ts';

type Sqlite = Pick<Mirror, 'sqlite'>['sqlite'];

function counterFromDb<L extends string>(
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

export function createMetricsRegistry(sqlite: Sqlite, now: () => number = Date.now): Registry {
  const registry = new Registry();
  const all = <T>(sql: string) => sqlite.prepare(sql).all() as T[];

  new Gauge({
    name: 'retab_mirror_jobs',
    help: 'Mirrored jobs by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of all<{ status: string; n: number }>(
        'SELECT status, count(*) AS n FROM jobs GROUP BY status',
      ))
        this.set({ status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'retab_mirror_sync_lag_seconds',
    help: 'Seconds since a sync run last succeeded (NaN before the first success)',
    registers: [registry],
    collect() {
      const r = all<{ t: number | null }>(
        "SELECT max(finished_at) AS t FROM sync_runs WHERE outcome = 'success'",
      )[0];
      this.set(r?.t == null ? Number.NaN : Math.max(0, (now() - r.t) / 1000));
    },
  });
  counterFromDb(
    registry,
    'retab_mirror_upstream_requests_total',
    'Upstream HTTP requests made by sync runs',
    [],
    () =>
      all<{ v: number | null }>('SELECT sum(requests) AS v FROM sync_runs').map((r) => ({
        labels: {},
        value: r.v ?? 0,
      })),
  );
  counterFromDb(
    registry,
    'retab_mirror_upstream_responses_total',
    'Upstream answers to sync runs by HTTP status (status="network" when none came), retries included',
    ['status'],
    () =>
      all<{ status: string; n: number }>(
        `SELECT s.key AS status, sum(s.value) AS n FROM sync_runs r, json_each(r.upstream_statuses) s
         WHERE r.upstream_statuses IS NOT NULL GROUP BY s.key`,
      ).map((r) => ({ labels: { status: r.status }, value: r.n })),
  );
  counterFromDb(
    registry,
    'retab_mirror_quarantined_total',
    'Upstream items quarantined by sync runs',
    [],
    () =>
      all<{ v: number | null }>('SELECT sum(quarantined) AS v FROM sync_runs').map((r) => ({
        labels: {},
        value: r.v ?? 0,
      })),
  );
  counterFromDb(registry, 'retab_mirror_events_total', 'Change events in the outbox by type', ['type'], () =>
    all<{ type: string; n: number }>('SELECT type, count(*) AS n FROM job_events GROUP BY type').map((r) => ({
      labels: { type: r.type },
      value: r.n,
    })),
  );
  counterFromDb(
    registry,
    'retab_mirror_sync_runs_total',
    'Sync runs by task and outcome',
    ['task', 'outcome'],
    () =>
      all<{ task: string; outcome: string; n: number }>(
        'SELECT task, outcome, count(*) AS n FROM sync_runs GROUP BY task, outcome',
      ).map((r) => ({ labels: { task: r.task, outcome: r.outcome }, value: r.n })),
  );
  counterFromDb(
    registry,
    'retab_mirror_sync_run_seconds_total',
    'Total duration of finished sync runs by task (divide by runs for the mean)',
    ['task'],
    () =>
      all<{ task: string; ms: number | null }>(
        'SELECT task, sum(finished_at - started_at) AS ms FROM sync_runs WHERE finished_at IS NOT NULL GROUP BY task',
      ).map((r) => ({ labels: { task: r.task }, value: (r.ms ?? 0) / 1000 })),
  );
  new Gauge({
    name: 'retab_mirror_last_run_duration_seconds',
    help: 'Duration of the latest finished sync run of each task',
    labelNames: ['task'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of all<{ task: string; ms: number }>(
        `SELECT r.task, r.finished_at - r.started_at AS ms FROM sync_runs r JOIN
           (SELECT max(id) AS id FROM sync_runs WHERE finished_at IS NOT NULL GROUP BY task) l ON r.id = l.id`,
      ))
        this.set({ task: r.task }, r.ms / 1000);
    },
  });
  new Gauge({
    name: 'retab_mirror_outbox_seq',
    help: 'Highest event sequence number in the outbox',
    registers: [registry],
    collect() {
      this.set(all<{ m: number | null }>('SELECT max(seq) AS m FROM job_events')[0]?.m ?? 0);
    },
  });
  return registry;
}

export function registerMetricsRoute(app: FastifyInstance, mirror: Pick<Mirror, 'sqlite'>): void {
  const registry = createMetricsRegistry(mirror.sqlite);
  app.get('/metrics', async (_request, reply) => {
    const text = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(text);
  });
}
