import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, registerSecret } from '../../src/log.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, stream };
}

describe('logger redaction', () => {
  it('redacts the API key in headers and apiKey fields', () => {
    const key = 'sk-retab-abcdef123456';
    const { lines, stream } = capture();
    const log = createLogger({ destination: stream, level: 'info' });
    log.info({ headers: { 'Api-Key': key, 'api-key': key } }, 'request');
    log.info({ apiKey: key, nested: { apiKey: key } }, 'config');
    log.child({ task: 'head' }).info({ req: { headers: { 'api-key': key } } }, 'child');
    const out = lines.join('');
    expect(out).not.toContain(key);
    expect(out).toContain('[Redacted]');
    expect(lines).toHaveLength(3);
  });

  it('scrubs a registered secret wherever it appears, even inside messages', () => {
    const key = 'sk-registered-987654321';
    registerSecret(key);
    const { lines, stream } = capture();
    const log = createLogger({ destination: stream });
    log.error({ err: new Error(`upstream said: bad key ${key}`) }, `failed with ${key}`);
    const out = lines.join('');
    expect(out).not.toContain(key);
    expect(out).toContain('[Redacted]');
  });
});
