/** `retab-mirror simulator`: declared here, run by simulatorCommand.ts (see lazyAction.ts). */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ENVELOPE_STYLES } from '../../retab/listEnvelope.ts';
import { lazyAction } from './lazyAction.ts';

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number > 0, got "${value}"`);
  return n;
}

function instant(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n)) {
    throw new InvalidArgumentError(`expected unix ms or an ISO date (2026-11-01T12:00:00Z), got "${value}"`);
  }
  return n;
}

export function declareSimulatorCommand(program: Command): void {
  program
    .command('simulator')
    .description('serve a simulated Retab Jobs API (evolving jobs, fault injection) for tests and demos')
    .option('-p, --port <port>', 'port on 127.0.0.1 (0 = any free port)', integer(0, 65_535), 8787)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('-n, --jobs <n>', 'jobs generated at start', integer(0), 10_000)
    .option('-d, --days <days>', 'spread the initial jobs over the last N days', positive, 30)
    .option('-s, --seed <seed>', 'same seed, same data and evolution', integer(0), 1)
    .option(
      '--realtime',
      'let simulated time follow the wall clock (default: frozen until POST /_sim/advance)',
    )
    .option(
      '--api-key <key>',
      'key to require in the Api-Key header (default: $RETAB_API_KEY, else generated)',
    )
    .option(
      '--latency-ms <ms>',
      'delay added to every /v1 response, ms (a WAN-like upstream for benchmarks)',
      integer(0, 60_000),
      0,
    )
    .option('--now <time>', 'simulated time at start, unix ms or ISO date (default: now)', instant)
    .option(
      '--arrivals-per-minute <n>',
      'new jobs per simulated minute (default 12, or 60 with --realtime)',
      positive,
    )
    .addOption(
      new Option(
        '--envelope <style>',
        'list envelope: both (original fields and list_metadata), legacy (first_id/last_id/has_more) or current ({data, list_metadata})',
      )
        .choices(ENVELOPE_STYLES)
        .default('both'),
    )
    .addOption(
      new Option(
        '--endpoint-names <family>',
        'endpoint names of generated jobs: legacy (/v1/documents/extract, …) or current (/v1/extractions, …)',
      )
        .choices(['legacy', 'current'])
        .default('legacy'),
    )
    .action(lazyAction(async () => (await import('../simulatorCommand.ts')).registerSimulatorCommand));
}
