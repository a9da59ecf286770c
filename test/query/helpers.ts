/** Shared by the query tests: temp mirrors, hand-made jobs, loading the simulator's ground truth, the server. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { applyPage } from '../../src/mirror/applyPage.ts';
import type { MirrorStore } from '../../src/mirror/index.ts';
import { type Mirror, openMirror } from '../../src/mirror/openMirror.ts';
import type { Job } from '../../src/retab/schemas.ts';
import { type CreateServerOptions, createServer } from '../../src/server/createServer.ts';

export interface TempMirror {
  dir: string;
  path: string;
  /** The writer (as the sync holds it). */
  mirror: Mirror;
  /** A read-only connection (as the server and the CLI hold it). */
  reader: Mirror;
  cleanup(): void;
}

export function tempMirror(): TempMirror {
  const dir = mkdtempSync(join(tmpdir(), 'retab-query-'));
  const path = join(dir, 'mirror.db');
  const mirror = openMirror(path);
  const reader = openMirror(path, { readonly: true });
  return {
    dir,
    path,
    mirror,
    reader,
    cleanup() {
      reader.close();
      mirror.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Write jobs the way the sync does, in pages. */
export function load(mirror: Mirror, jobs: readonly Job[], pageSize = 500, observedAt = Date.now()): void {
  for (let i = 0; i < jobs.length; i += pageSize) {
    applyPage(mirror, jobs.slice(i, i + pageSize), { observedAt });
  }
}

/** `load` through the seam, on any store. */
export async function loadStore(
  mirror: MirrorStore,
  jobs: readonly Job[],
  pageSize = 500,
  observedAt = Date.now(),
): Promise<void> {
  for (let i = 0; i < jobs.length; i += pageSize)
    await mirror.jobs.applyPage(jobs.slice(i, i + pageSize), { observedAt });
}

const T0 = Date.parse('2026-10-20T00:00:00Z') / 1000;
let serial = 0;

/** A hand-made job (completed, api source, one PDF) with overrides. */
export function makeJob(over: Partial<Job> & { filenames?: string[] } = {}): Job {
  serial++;
  const { filenames, ...rest } = over;
  const created = rest.created_at ?? T0 + serial * 60;
  const names = filenames ?? [`file_${serial}.pdf`];
  const request: Record<string, unknown> = {
    model: 'gpt-4.1',
    ...(names.length === 1
      ? { document: { filename: names[0], url: 'https://example.test/f' } }
      : { documents: names.map((n) => ({ filename: n, url: 'https://example.test/f' })) }),
  };
  return {
    id: `job_${String(serial).padStart(21, 'x')}`,
    object: 'job',
    status: 'completed',
    endpoint: '/v1/documents/extract',
    request,
    response: { status_code: 200, body: { ok: true } },
    error: null,
    created_at: created,
    started_at: created + 5,
    completed_at: created + 20,
    expires_at: created + 7 * 86_400,
    organization_id: 'org_test',
    metadata: null,
    ...rest,
  };
}

export async function listen(opts: CreateServerOptions): Promise<{ app: FastifyInstance; base: string }> {
  const app = createServer(opts);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('server has no address');
  return { app, base: `http://127.0.0.1:${addr.port}` };
}

export const LOCAL_CONFIG = { serverHost: '127.0.0.1', serverPort: 0 } as const;

export async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as unknown };
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
