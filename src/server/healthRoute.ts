/** `GET /healthz`: the database answers, and how long ago a sync run last succeeded. */
import type { FastifyInstance } from 'fastify';
import type { Mirror } from '../mirror/openMirror.ts';

export interface Health {
  ok: boolean;
  /** Seconds since the last successful sync run finished; null when none has yet. */
  lastSuccessAgeSeconds: number | null;
  error?: string;
}

export function readHealth(mirror: Pick<Mirror, 'sqlite'>, now = Date.now()): Health {
  const row = mirror.sqlite
    .prepare("SELECT max(finished_at) AS t FROM sync_runs WHERE outcome = 'success'")
    .get() as { t: number | null };
  return {
    ok: true,
    lastSuccessAgeSeconds: row.t === null ? null : Math.max(0, Math.round((now - row.t) / 1000)),
  };
}

export function registerHealthRoute(app: FastifyInstance, mirror: Pick<Mirror, 'sqlite'>): void {
  app.get('/healthz', async (request, reply) => {
    try {
      return readHealth(mirror);
    } catch (err) {
      request.log.warn({ err }, 'health check: database unreadable');
      return reply.code(503).send({
        ok: false,
        lastSuccessAgeSeconds: null,
        error: `database unreadable: ${(err as Error).message}`,
      });
    }
  });
}
