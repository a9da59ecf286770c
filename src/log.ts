/**
 * pino, with secrets redacted at the logger so no caller can leak them: `Api-Key`/`api-key` headers and
 * any `apiKey`/`token`/`secret` field by path, and every registered secret value wherever it appears in a
 * line (error messages included). Human-readable on a TTY, JSON lines otherwise.
 */
import { createRequire } from 'node:module';
import type { DestinationStream, Logger } from 'pino';

// pino (~30 modules, ~30 ms of CPU) is loaded the first time a logger is built, and pino-pretty (~40 more)
// the first time a terminal needs it, not by every command that imports this module for its secrets
// registry: `jobs list` and `stats` log nothing (bench/startup.ts).
const requirePino = () => createRequire(import.meta.url)('pino') as typeof import('pino');
const requirePretty = () => createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');

export type { Logger } from 'pino';

const secrets = new Set<string>();

/** Register a secret value (the API key, a token): it is replaced by `[Redacted]` in every log line. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Remove every registered secret from a string (for messages that leave the logger, e.g. stderr). */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[Redacted]');
  return out;
}

const SECRET_FIELDS = ['apiKey', 'api_key', 'token', 'secret', 'password', 'serverToken', 'webhookSecret'];
const HEADER_NAMES = ['"api-key"', '"Api-Key"', 'authorization', 'Authorization'];

export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS.map((f) => `*.*.${f}`),
  ...HEADER_NAMES.flatMap((h) => [`headers[${h}]`, `*.headers[${h}]`, `*.*.headers[${h}]`]),
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; default stdout (pretty when it is a TTY). */
  destination?: DestinationStream;
  /**
   * Split by level instead: info and below to `info`, warn and above to `warn` (a service's stdout and
   * stderr, as PM2 and systemd keep them). Wins over `destination`.
   */
  split?: { info: DestinationStream; warn: DestinationStream };
  pretty?: boolean;
  name?: string;
}

/** One line per log entry on a terminal, fields inline: `[12:00:01] INFO: worker started {"queue":…}`. */
export function prettyStream(destination: DestinationStream | NodeJS.WritableStream): DestinationStream {
  return requirePretty()({
    sync: true,
    colorize: true,
    singleLine: true,
    ignore: 'pid,hostname,name',
    translateTime: 'HH:MM:ss',
    destination,
  });
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const pino = requirePino();
  const usePretty = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const destination = opts.split
    ? pino.multistream(
        [
          { level: 'trace', stream: opts.split.info },
          { level: 'warn', stream: opts.split.warn },
        ],
        { dedupe: true },
      )
    : (opts.destination ?? (usePretty ? prettyStream(process.stdout) : pino.destination({ sync: true })));
  return pino(
    {
      level: opts.level ?? 'info',
      name: opts.name ?? 'retab-mirror',
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      hooks: { streamWrite: (line) => (secrets.size > 0 ? scrubSecrets(line) : line) },
    },
    destination,
  );
}

let silent: Logger | undefined;
const silentTarget = (): Logger => (silent ??= requirePino()({ level: 'silent' }));

/**
 * A logger that drops everything: the default for library calls that were given none. A stand-in that builds
 * the real (silent) pino logger when first used, so importing this module does not load pino.
 */
export const silentLogger: Logger = new Proxy({} as Logger, {
  get(_, prop) {
    const value: unknown = Reflect.get(silentTarget(), prop);
    return typeof value === 'function' ? value.bind(silentTarget()) : value;
  },
  set: (_, prop, value) => Reflect.set(silentTarget(), prop, value),
  has: (_, prop) => Reflect.has(silentTarget(), prop),
});
