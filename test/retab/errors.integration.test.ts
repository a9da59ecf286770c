import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import {
  AuthenticationError,
  InvalidCursorError,
  NotFoundError,
  RetabParamsError,
  UnprocessableEntityError,
} from '../../src/retab/errors.ts';
import { resolveClientOptions, USER_AGENT } from '../../src/retab/options.ts';
import type { ListJobsParams } from '../../src/retab/schemas.ts';
import { createTransport } from '../../src/retab/transport.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { captureLogger } from './logCapture.ts';

// Permanent failures: surfaced at once, typed, never retried, never leaking the key.
const apiKey = `sk-errors-${randomUUID()}`;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, jobs: 300, apiKey, now: Date.parse('2026-11-01T12:00:00Z') });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.faults.clear();
  sim.stats.reset();
});

describe('permanent errors', () => {
  it('fails a rejected key at once, naming RETAB_API_KEY, leaking the key nowhere', async () => {
    const wrongKey = `sk-wrong-${randomUUID()}`;
    const log = captureLogger();
    const c = createRetabClient({ apiKey: wrongKey, baseUrl: sim.url, logger: log.logger });
    const err = await c.listJobs().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    const e = err as AuthenticationError;
    expect(e.status).toBe(401);
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/RETAB_API_KEY/);
    expect(e.message).toMatch(/rejected/);
    expect(sim.stats.total).toBe(1);
    const everything = [e.message, String(e.stack), JSON.stringify(e.details), ...log.lines].join('\n');
    expect(everything).not.toContain(wrongKey);
    expect(log.records().some((r) => r.msg === 'retab request' && r.status === 401)).toBe(true);
  });

  it('surfaces the offending parameter of a 422 without retrying', async () => {
    const transport = createTransport(resolveClientOptions({ apiKey, baseUrl: sim.url }));
    // The client refuses these before sending, so they go through the transport underneath it.
    for (const [query, param] of [
      ['limit=0', 'limit'],
      ['include_response=true&limit=50', 'include_response'],
      ['status=done', 'status'],
    ] as const) {
      sim.stats.reset();
      const err = await transport.getJson('/jobs', new URLSearchParams(query)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnprocessableEntityError);
      expect((err as UnprocessableEntityError).params).toEqual([param]);
      expect((err as Error).message).toContain(param);
      expect(sim.stats.total).toBe(1);
    }
  });

  it('sends nothing when the client rejects a parameter', async () => {
    const c = createRetabClient({ apiKey, baseUrl: sim.url });
    const bad: unknown[] = [{ limit: 0 }, { limit: 50, include_response: true }, { from_date: '2026-02-31' }];
    for (const params of bad) {
      const err = await c.listJobs(params as ListJobsParams).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetabParamsError);
    }
    await expect(c.retrieveJob('')).rejects.toBeInstanceOf(RetabParamsError);
    expect(sim.stats.total).toBe(0);
    expect(c.requestCount).toBe(0);
  });

  it('raises InvalidCursorError for a cursor upstream does not know, without retrying', async () => {
    const c = createRetabClient({ apiKey, baseUrl: sim.url });
    const walk = async () => {
      for await (const _ of c.iterPages({ limit: 10 }, { startAfter: 'job_doesnotexist000000000' })) {
        // unreachable: the first page fails
      }
    };
    await expect(walk()).rejects.toBeInstanceOf(InvalidCursorError);
    sim.faults.enqueue('cursor_reject');
    const err = await c.listJobs({ after: sim.store.all()[0]?.id ?? 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidCursorError);
    expect((err as InvalidCursorError).code).toBe('invalid_cursor');
    expect(sim.stats.total).toBe(2);
  });
});

describe('retrieveJob', () => {
  it('returns one job, with its request only when asked', async () => {
    const truth = sim.store.all()[42];
    if (!truth) throw new Error('simulator has no jobs');
    const c = createRetabClient({ apiKey, baseUrl: sim.url });
    const light = await c.retrieveJob(truth.id);
    expect(light).toMatchObject({ id: truth.id, status: truth.status, created_at: truth.created_at });
    expect(light.request ?? null).toBeNull();
    const full = await c.retrieveJob(truth.id, { includeRequest: true });
    expect(full.request).toEqual(truth.request);
    expect(sim.stats.requests.map((r) => r.query)).toEqual([{}, { include_request: 'true' }]);
  });

  it('raises NotFoundError for an unknown or removed job, once', async () => {
    const c = createRetabClient({ apiKey, baseUrl: sim.url });
    await expect(c.retrieveJob('job_unknown00000000000000')).rejects.toBeInstanceOf(NotFoundError);
    const gone = sim.store.all()[7]?.id ?? '';
    sim.store.remove(gone);
    await expect(c.retrieveJob(gone)).rejects.toBeInstanceOf(NotFoundError);
    expect(sim.stats.total).toBe(2);
  });
});

describe('what goes on the wire and in the log', () => {
  it('sends Api-Key, a versioned User-Agent and Accept: application/json', async () => {
    let seen: IncomingHttpHeaders = {};
    const server = createServer((req, res) => {
      seen = req.headers;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ object: 'list', data: [], first_id: null, last_id: null, has_more: false }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      await createRetabClient({ apiKey, baseUrl: `http://127.0.0.1:${port}/v1` }).listJobs();
      expect(seen['api-key']).toBe(apiKey);
      expect(seen['user-agent']).toBe(USER_AGENT);
      expect(seen.accept).toBe('application/json');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('logs each request at debug (method, path, status, duration, attempt) and never the key', async () => {
    const log = captureLogger();
    const c = createRetabClient({ apiKey, baseUrl: sim.url, logger: log.logger, minRetryDelayMs: 1 });
    sim.faults.enqueue('http500');
    await c.listJobs({ limit: 2 });
    const requests = log.records().filter((r) => r.msg === 'retab request');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ level: 20, method: 'GET', path: '/jobs', status: 500, attempt: 1 });
    expect(requests[1]).toMatchObject({ status: 200, attempt: 2 });
    expect(typeof requests[1]?.durationMs).toBe('number');
    expect(log.lines.join('')).not.toContain(apiKey);
  });
});
