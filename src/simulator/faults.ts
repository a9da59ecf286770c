/**
 * Fault injection: each request to a `/v1` route may get a fault, taken first from the scripted queue
 * (`enqueue`), else drawn from the configured probabilities with a seeded generator.
 */
import * as z from 'zod';
import { Random } from './random.ts';
import type { Route } from './stats.ts';

export const FAULT_KINDS = [
  'http429',
  'http500',
  'http502',
  'http503',
  'reset',
  'slow',
  'truncated',
  'invalid_json',
  'malformed_item',
  'cursor_reject',
  'ok',
] as const;
/**
 * `http429` (with Retry-After) | `http500` | `http502` | `http503` | `reset` (socket destroyed, no answer) |
 * `slow` (answers after `slowMs`) | `truncated` (JSON body cut in the middle) | `invalid_json` |
 * `malformed_item` (one list item corrupted) | `cursor_reject` (400 invalid_cursor on a list) | `ok` (none).
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

export const ROUTES = ['list', 'retrieve', 'create', 'cancel', 'retry'] as const;

export const FaultConfigSchema = z
  .object({
    /** Probability of each fault per request (their sum must not exceed 1). */
    probabilities: z.partialRecord(z.enum(FAULT_KINDS), z.number().min(0).max(1)).optional(),
    /** Retry-After sent with 429s, in seconds. @default 1 */
    retryAfterSeconds: z.number().int().min(0).optional(),
    /**
     * Headers sent with 429s instead of `Retry-After: <retryAfterSeconds>`, as written: the odd forms real
     * servers send (`0`, a date already passed, `1.5`, a huge value, garbage, `retry-after-ms`).
     */
    retryAfterHeaders: z.record(z.string(), z.string()).optional(),
    /** Delay of a `slow` response, in ms. @default 2000 */
    slowMs: z.number().int().min(0).optional(),
    /** Routes faults apply to (scripted and random alike). @default every route */
    routes: z.array(z.enum(ROUTES)).optional(),
    /** Scripted faults, appended to the queue. */
    sequence: z.array(z.enum(FAULT_KINDS)).optional(),
  })
  .strict()
  .refine((c) => Object.values(c.probabilities ?? {}).reduce((a, b) => a + (b ?? 0), 0) <= 1 + 1e-9, {
    message: 'fault probabilities must sum to at most 1',
    path: ['probabilities'],
  });
export type FaultConfig = z.input<typeof FaultConfigSchema>;

// A status upstream added is not malformed (the mirror keeps it); a status that is not a string is.
const MALFORMATIONS = ['missing_field', 'invalid_status', 'wrong_type'] as const;
export type Malformation = (typeof MALFORMATIONS)[number];

export class FaultInjector {
  private probabilities: [FaultKind, number][] = [];
  private queue: FaultKind[] = [];
  private routes: ReadonlySet<Route> | undefined;
  private malformed = 0;
  private readonly rng: Random;
  retryAfterSeconds = 1;
  retryAfterHeaders: Record<string, string> | undefined;
  slowMs = 2000;

  constructor(seed: number, config?: FaultConfig) {
    this.rng = new Random(seed ^ 0xfa017);
    if (config) this.set(config);
  }

  /** Replaces the configuration (probabilities, timings, routes); a `sequence` is appended to the queue. */
  set(config: FaultConfig): void {
    const c = FaultConfigSchema.parse(config);
    this.probabilities = Object.entries(c.probabilities ?? {}).filter(
      (e): e is [FaultKind, number] => typeof e[1] === 'number' && e[1] > 0,
    );
    this.retryAfterSeconds = c.retryAfterSeconds ?? 1;
    this.retryAfterHeaders = c.retryAfterHeaders;
    this.slowMs = c.slowMs ?? 2000;
    this.routes = c.routes ? new Set(c.routes) : undefined;
    if (c.sequence) this.queue.push(...c.sequence);
  }

  /** Scripted: the next requests get these faults, in order (`ok` for a clean answer). */
  enqueue(...kinds: FaultKind[]): void {
    for (const k of kinds) z.enum(FAULT_KINDS).parse(k);
    this.queue.push(...kinds);
  }

  /** Removes every fault: probabilities, queue and route restriction. */
  clear(): void {
    this.probabilities = [];
    this.queue = [];
    this.routes = undefined;
    this.retryAfterSeconds = 1;
    this.retryAfterHeaders = undefined;
    this.slowMs = 2000;
  }

  /** Scripted faults not yet consumed. */
  get pending(): number {
    return this.queue.length;
  }

  /** The fault for the next request on `route`, or undefined for none. */
  next(route: Route): FaultKind | undefined {
    if (this.routes && !this.routes.has(route)) return undefined;
    const scripted = this.queue.shift();
    if (scripted !== undefined) return scripted === 'ok' ? undefined : scripted;
    if (this.probabilities.length === 0) return undefined;
    let u = this.rng.next();
    for (const [kind, p] of this.probabilities) {
      u -= p;
      if (u < 0) return kind === 'ok' ? undefined : kind;
    }
    return undefined;
  }

  /** Which corruption the next `malformed_item` applies: the three kinds in turn. */
  nextMalformation(): Malformation {
    return MALFORMATIONS[this.malformed++ % MALFORMATIONS.length] as Malformation;
  }
}

/** Corrupts a wire job in place the way a buggy upstream might. */
export function malform(job: Record<string, unknown>, how: Malformation): void {
  if (how === 'missing_field') delete job.status;
  else if (how === 'invalid_status') job.status = 7;
  else job.created_at = String(job.created_at);
}
