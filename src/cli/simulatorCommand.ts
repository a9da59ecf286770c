/** `retab-mirror simulator`: serve the Retab Jobs API simulator until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import type { EnvelopeStyle } from '../retab/index.ts';
import { untilStopSignal } from './stopSignals.ts';

/** With a realtime clock, one new job a second on average keeps the listing visibly moving. */
const REALTIME_ARRIVALS = 60;

interface SimulatorFlags {
  port: number;
  host: string;
  jobs: number;
  days: number;
  seed: number;
  realtime?: boolean;
  apiKey?: string;
  now?: number;
  arrivalsPerMinute?: number;
  envelope: EnvelopeStyle;
  endpointNames: 'legacy' | 'current';
  latencyMs: number;
}

export function registerSimulatorCommand(program: Command): void {
  program
    // Its flags and help: commands/simulator.ts.
    .command('simulator')
    .action(async (flags: SimulatorFlags) => {
      const t0 = Date.now();
      // Listen before announcing the URL: a caller may signal as soon as it has read it.
      const { stopped } = untilStopSignal(() => process.exit(130));
      const { DEFAULT_RATES, startSimulator } = await import('../simulator/index.ts');
      const sim = await startSimulator({
        port: flags.port,
        host: flags.host,
        jobs: flags.jobs,
        days: flags.days,
        seed: flags.seed,
        clock: flags.realtime ? 'realtime' : 'manual',
        envelope: flags.envelope,
        endpointNames: flags.endpointNames,
        latencyMs: flags.latencyMs,
        ...(flags.now !== undefined ? { now: flags.now } : {}),
        rates: {
          arrivalsPerMinute:
            flags.arrivalsPerMinute ?? (flags.realtime ? REALTIME_ARRIVALS : DEFAULT_RATES.arrivalsPerMinute),
        },
        ...((flags.apiKey ?? process.env.RETAB_API_KEY)
          ? { apiKey: flags.apiKey ?? process.env.RETAB_API_KEY }
          : {}),
      });
      // Two lines in .env form on stdout, so a shell or a test harness can read them; the rest goes to stderr.
      process.stdout.write(`RETAB_BASE_URL=${sim.url}\nRETAB_API_KEY=${sim.apiKey}\n`);
      process.stderr.write(
        `simulator: ${sim.store.size} jobs ready in ${Date.now() - t0} ms, ${flags.realtime ? 'realtime' : 'manual'} clock; ` +
          'control routes under /_sim/; Ctrl-C to stop\n',
      );
      await stopped;
      await sim.close();
      process.stderr.write('simulator: stopped\n');
    });
}
