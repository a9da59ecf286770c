import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRetabMirror, type RetabMirror } from '../../src/index.ts';
import { scrubSecrets } from '../../src/log.ts';

let m: RetabMirror | undefined;
afterAll(async () => {
  await m?.close();
});

describe('library facade credentials', () => {
  it('registers the API key, the server token and every webhook secret, so logs scrub them', () => {
    const secrets = {
      apiKey: 'sk_lib_facade_key_0001',
      serverToken: 'tok_lib_facade_server_0002',
      webhookSecret: 'whsec_bGliRmFjYWRlRGVmYXVsdDAwMDM=',
      target: 'whsec_bGliRmFjYWRlVGFyZ2V0MDAwNA==',
    };
    m = createRetabMirror({
      config: {
        apiKey: secrets.apiKey,
        baseUrl: 'http://127.0.0.1:9',
        dbPath: join(mkdtempSync(join(tmpdir(), 'lib-sec-')), 'm.db'),
        serverToken: secrets.serverToken,
        webhookSecret: secrets.webhookSecret,
        webhooks: [{ name: 'ops', url: 'http://127.0.0.1:9/hook', secret: secrets.target }],
      },
    });
    const line = scrubSecrets(Object.values(secrets).join(' | '));
    for (const s of Object.values(secrets)) expect(line).not.toContain(s);
  });
});
