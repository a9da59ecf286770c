/** Test helper: a real pino logger (the project's, with its redaction) writing into an array of lines. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.ts';

export function captureLogger(): {
  logger: Logger;
  lines: string[];
  records: () => Record<string, unknown>[];
} {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ destination: stream, level: 'debug', pretty: false });
  return {
    logger,
    lines,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
