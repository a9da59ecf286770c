/**
 * Test-only control routes under `/_sim/` (loopback, no key): move the clock, set faults, read the ground
 * truth and the request log. They are not counted in the stats.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import type { LifecycleClock } from './clock.ts';
import { FAULT_KINDS, type FaultInjector } from './faults.ts';
import { readJson, sendJson } from './http.ts';
import type { JobIndex } from './jobIndex.ts';
import { INCLUDE_ALL, toJob } from './simJob.ts';
import type { RequestStats } from './stats.ts';
import type { SimStore } from './store.ts';

export interface ControlDeps {
  index: JobIndex;
  store: SimStore;
  clock: LifecycleClock;
  faults: FaultInjector;
  stats: RequestStats;
}

const AdvanceSchema = z.object({ ms: z.number().nonnegative() });
const EnqueueSchema = z.object({ kinds: z.array(z.enum(FAULT_KINDS)) });

export async function handleControl(
  deps: ControlDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const route = `${req.method} ${url.pathname}`;
  try {
    switch (route) {
      case 'POST /_sim/advance': {
        const { ms } = AdvanceSchema.parse(await readJson(req));
        return sendJson(res, 200, { now: deps.clock.advance(ms) });
      }
      case 'GET /_sim/info': {
        const mem = process.memoryUsage();
        const mb = (n: number) => Math.round(n / 1e6);
        return sendJson(res, 200, {
          jobs: deps.store.size,
          now: deps.clock.now(),
          mode: deps.clock.mode,
          rssMb: mb(mem.rss),
          heapUsedMb: mb(mem.heapUsed),
        });
      }
      case 'GET /_sim/clock':
        deps.clock.sync();
        return sendJson(res, 200, { now: deps.clock.now(), mode: deps.clock.mode });
      case 'POST /_sim/faults':
        deps.faults.set((await readJson(req)) as never);
        return sendJson(res, 200, { ok: true });
      case 'POST /_sim/faults/enqueue':
        deps.faults.enqueue(...EnqueueSchema.parse(await readJson(req)).kinds);
        return sendJson(res, 200, { ok: true, pending: deps.faults.pending });
      case 'DELETE /_sim/faults':
        deps.faults.clear();
        return sendJson(res, 200, { ok: true });
      case 'GET /_sim/stats':
        return sendJson(res, 200, {
          total: deps.stats.total,
          byKey: deps.stats.byKey(),
          requests: deps.stats.requests,
        });
      case 'DELETE /_sim/stats':
        deps.stats.reset();
        return sendJson(res, 200, { ok: true });
      case 'GET /_sim/jobs.jsonl':
        deps.clock.sync();
        return streamJobs(deps, res);
      default:
        return sendJson(res, 404, { detail: `No control route ${route}` });
    }
  } catch (err) {
    return sendJson(res, 400, { detail: `${route}: ${(err as Error).message}` });
  }
}

/** Every job, full, one JSON line each, ascending listing order; respects backpressure. */
async function streamJobs(deps: ControlDeps, res: ServerResponse): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const snapshot = deps.index.ordered.slice();
  let chunk = '';
  for (const rec of snapshot) {
    chunk += `${JSON.stringify(toJob(rec, deps.store.organizationId, INCLUDE_ALL))}\n`;
    if (chunk.length > 64 * 1024) {
      const ok = res.write(chunk);
      chunk = '';
      if (!ok) await new Promise((resolve) => res.once('drain', resolve));
    }
  }
  res.end(chunk);
}
