/** `GET /v1/mirror/stats`: aggregates over the mirror (see `statsJobs`). */
import type { FastifyInstance } from 'fastify';
import type { MirrorStore } from '../mirror/index.ts';
import { parseStatsQuery } from '../mirror/index.ts';
import { rawQuery } from '../retab/index.ts';

export function registerStatsRoute(app: FastifyInstance, mirror: MirrorStore): void {
  app.get('/v1/mirror/stats', async (request, reply) => {
    const parsed = parseStatsQuery(rawQuery(request.raw.url ?? ''));
    if (!parsed.ok) return reply.code(parsed.status).send(parsed.body);
    return mirror.jobs.stats(parsed.options);
  });
}
