/** `GET /healthz`: the database answers, and how long ago a sync run last succeeded. */
import type { FastifyInstance } from 'fastify';
import type { MirrorStore } from '../mirror/index.ts';

export interface Health {
  ok: boolean;
  /** Seconds since the last successful sync run finished; null when none has yet. */
  lastSuccessAgeSeconds: number | null;
  error?: string;
}

export async function readHealth(mirror: MirrorStore, now = Date.now()): Promise<Health> {
  const t = await mirror.views.lastSuccessAt();
  return {
    ok: true,
    lastSuccessAgeSeconds: t === null ? null : Math.max(0, Math.round((now - t) / 1000)),
  };
}

export function registerHealthRoute(app: FastifyInstance, mirror: MirrorStore): void {
  app.get('/healthz', async (request, reply) => {
    try {
      return await readHealth(mirror);
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
