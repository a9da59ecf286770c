/** The local read API (fastify): Retab's wire format over the mirror, stats, the SSE event stream, health and metrics. */

export { startServer } from './createServer.ts';
export type { UpstreamPayloads } from './fillPayloads.ts';
