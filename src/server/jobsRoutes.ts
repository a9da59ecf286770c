/** `GET /v1/jobs` and `GET /v1/jobs/:id` from the mirror, wire-compatible with the upstream (and the simulator). */
import type { FastifyInstance } from 'fastify';
import type { Mirror } from '../mirror/openMirror.ts';
import { getJob, InvalidCursorError, queryJobs } from '../mirror/queryJobs.ts';
import { parseListQuery } from '../retab/params.ts';
import { jobNotFound, rawQuery } from './errors.ts';

export function registerJobsRoutes(app: FastifyInstance, mirror: Pick<Mirror, 'sqlite'>): void {
  app.get('/v1/jobs', async (request, reply) => {
    const parsed = parseListQuery(rawQuery(request.raw.url ?? ''));
    if (!parsed.ok) return reply.code(parsed.status).send(parsed.body);
    try {
      return queryJobs(mirror, parsed.params);
    } catch (err) {
      if (err instanceof InvalidCursorError) return reply.code(err.status).send(err.body);
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', async (request, reply) => {
    const q = rawQuery(request.raw.url ?? '');
    const parsed = parseListQuery({
      include_request: q.include_request,
      include_response: q.include_response,
    });
    if (!parsed.ok) return reply.code(parsed.status).send(parsed.body);
    const job = getJob(mirror, request.params.id, parsed.params);
    if (!job) return reply.code(404).send(jobNotFound(request.params.id));
    return job;
  });
}
