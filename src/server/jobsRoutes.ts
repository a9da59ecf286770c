/**
 * `GET /v1/jobs` and `GET /v1/jobs/:id` from the mirror, wire-compatible with the upstream (and the simulator):
 * both list envelopes at once, `job_id` or `id`, both endpoint families. Payloads asked for and missing from
 * the mirror are fetched from upstream when possible (fillPayloads.ts), and `X-Mirror-Payload` says whether
 * the answer holds them all.
 */
import type { FastifyInstance } from 'fastify';
import type { MirrorStore } from '../mirror/index.ts';
import type { JobList } from '../retab/index.ts';
import { InvalidCursorError, jobNotFound, parseListQuery, rawQuery } from '../retab/index.ts';
import { fillPayloads, PAYLOAD_HEADER, type UpstreamPayloads } from './fillPayloads.ts';

export function registerJobsRoutes(
  app: FastifyInstance,
  mirror: MirrorStore,
  upstream?: UpstreamPayloads,
): void {
  app.get('/v1/jobs', async (request, reply) => {
    const parsed = parseListQuery(rawQuery(request.raw.url ?? ''));
    if (!parsed.ok) return reply.code(parsed.status).send(parsed.body);
    let page: JobList;
    try {
      page = await mirror.jobs.query(parsed.params);
    } catch (err) {
      if (err instanceof InvalidCursorError) return reply.code(err.status ?? 400).send(err.body);
      throw err;
    }
    const want = { request: parsed.params.include_request, response: parsed.params.include_response };
    if (want.request || want.response) {
      reply.header(PAYLOAD_HEADER, await fillPayloads(mirror, page.data, want, upstream));
    }
    return page;
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', async (request, reply) => {
    const q = rawQuery(request.raw.url ?? '');
    const parsed = parseListQuery({
      include_request: q.include_request,
      include_response: q.include_response,
    });
    if (!parsed.ok) return reply.code(parsed.status).send(parsed.body);
    const job = await mirror.jobs.get(request.params.id, parsed.params);
    if (!job) return reply.code(404).send(jobNotFound(request.params.id));
    const want = { request: parsed.params.include_request, response: parsed.params.include_response };
    if (want.request || want.response) {
      reply.header(PAYLOAD_HEADER, await fillPayloads(mirror, [job], want, upstream));
    }
    return job;
  });
}
