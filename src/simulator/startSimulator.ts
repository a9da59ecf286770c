/** Wires generator, index, lifecycle, clock, faults and stats behind one HTTP server on 127.0.0.1. */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { EnvelopeStyle } from '../retab/index.ts';
import { Catalog, type EndpointNames } from './catalog.ts';
import { type ClockMode, LifecycleClock, type SimClock } from './clock.ts';
import { type FaultConfig, FaultInjector } from './faults.ts';
import { generateJobs } from './generate.ts';
import { JobIndex } from './jobIndex.ts';
import { DEFAULT_RATES, Lifecycle, type LifecycleRates } from './lifecycle.ts';
import { createSimulatorServer } from './server.ts';
import { RequestStats } from './stats.ts';
import { SimStore } from './store.ts';

export interface SimulatorOptions {
  /** Same seed, same data, same evolution. @default 1 */
  seed?: number;
  /** Jobs generated at start. @default 1000 */
  jobs?: number;
  /** The initial jobs are spread over the last `days` days. @default 14 */
  days?: number;
  /** Simulated time at start, unix ms. @default Date.now() */
  now?: number;
  /** `manual`: time moves only with `clock.advance(ms)`; `realtime`: it follows the wall clock. @default 'manual' */
  clock?: ClockMode;
  /** Key expected in the `Api-Key` header. @default a generated `sk-sim-…` key */
  apiKey?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Overrides of the lifecycle rates (arrivals, transition speeds, failure/cancel/retry probabilities). */
  rates?: Partial<LifecycleRates>;
  faults?: FaultConfig;
  /** Realtime tick period, ms. @default 250 */
  tickMs?: number;
  /**
   * The list envelope: `both` (original fields and `list_metadata` together), `legacy` (`first_id`,
   * `last_id`, `has_more` only) or `current` (`data` and `list_metadata` only). @default 'both'
   */
  envelope?: EnvelopeStyle;
  /** The endpoint family of generated jobs: `legacy` (`/v1/documents/extract`, …) or `current` (`/v1/extractions`, …). @default 'legacy' */
  endpointNames?: EndpointNames;
  /**
   * Added to every `/v1` response before it is computed, ms: a WAN-like upstream, so that a benchmark is
   * bound by round trips rather than by this machine's CPU (bench/scaleOut.ts uses 100). Control routes
   * (`/_sim/`) answer at once. @default 0
   */
  latencyMs?: number;
}

export interface Simulator {
  /** Base URL for a client, e.g. `http://127.0.0.1:8787/v1`. */
  readonly url: string;
  readonly apiKey: string;
  readonly port: number;
  readonly clock: SimClock;
  readonly store: SimStore;
  readonly stats: RequestStats;
  readonly faults: FaultInjector;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const seed = options.seed ?? 1;
  const now = options.now ?? Date.now();
  const apiKey = options.apiKey ?? `sk-sim-${randomBytes(18).toString('base64url')}`;
  const host = options.host ?? '127.0.0.1';
  const rates: LifecycleRates = { ...DEFAULT_RATES, ...options.rates };

  const index = new JobIndex();
  const names = options.endpointNames ?? 'legacy';
  index.load(generateJobs(seed, options.jobs ?? 1000, options.days ?? 14, now, names));
  const lifecycle = new Lifecycle(index, rates, seed, now, names);
  const clock = new LifecycleClock(lifecycle, options.clock ?? 'manual', options.tickMs);
  const store = new SimStore(index, lifecycle, new Catalog(seed).organizationId, () => clock.sync());
  const stats = new RequestStats();
  const faults = new FaultInjector(seed, options.faults);

  const server = createSimulatorServer({
    index,
    store,
    clock,
    faults,
    stats,
    apiKey,
    envelope: options.envelope ?? 'both',
    latencyMs: options.latencyMs ?? 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  clock.start();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/v1`,
    apiKey,
    port,
    clock,
    store,
    stats,
    faults,
    async close() {
      clock.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
