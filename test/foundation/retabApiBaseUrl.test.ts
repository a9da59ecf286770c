import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createRetabClient } from '../../src/retab/client.ts';
import { withVersion } from '../../src/retab/options.ts';
import { startSimulator } from '../../src/simulator/index.ts';

const load = (env: Record<string, string>) => loadConfig({ env, dotenvFile: false });

function configError(env: Record<string, string>): string {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

// Retab's official clients read RETAB_API_BASE_URL (retab-dev/retab clients/python/retab/client.py).
describe('RETAB_API_BASE_URL', () => {
  it('is read as the upstream base URL when RETAB_BASE_URL is not set', () => {
    expect(load({ RETAB_API_BASE_URL: 'http://127.0.0.1:9999/v1' }).baseUrl).toBe('http://127.0.0.1:9999/v1');
    expect(
      load({ RETAB_API_BASE_URL: 'http://127.0.0.1:9999/v1', RETAB_BASE_URL: 'http://127.0.0.1:9999/v1' })
        .baseUrl,
    ).toBe('http://127.0.0.1:9999/v1');
  });

  it('RETAB_BASE_URL and RETAB_API_BASE_URL disagreeing is a one-line error naming both', () => {
    const message = configError({
      RETAB_BASE_URL: 'http://a.test/v1',
      RETAB_API_BASE_URL: 'http://b.test/v1',
    });
    expect(message).toContain('RETAB_BASE_URL');
    expect(message).toContain('RETAB_API_BASE_URL');
    expect(message.split('\n')).toHaveLength(1);
  });

  it('a bad value names the variable it came from', () => {
    expect(configError({ RETAB_API_BASE_URL: 'not a url' })).toContain('RETAB_API_BASE_URL');
  });

  it('a bare origin (the form later clients take) gets /v1; a URL with a path is kept', () => {
    expect(withVersion('https://api.retab.com')).toBe('https://api.retab.com/v1');
    expect(withVersion('https://api.retab.com/')).toBe('https://api.retab.com/v1');
    expect(withVersion('http://127.0.0.1:8765/v1/')).toBe('http://127.0.0.1:8765/v1');
    expect(withVersion('https://proxy.test/retab/v1')).toBe('https://proxy.test/retab/v1');
  });

  it('a client given the bare origin of an upstream reaches its /v1/jobs', async () => {
    const sim = await startSimulator({ jobs: 5 });
    try {
      const client = createRetabClient({ apiKey: sim.apiKey, baseUrl: `http://127.0.0.1:${sim.port}` });
      expect((await client.listJobs({ limit: 5 })).data).toHaveLength(5);
    } finally {
      await sim.close();
    }
  });
});

describe('ACTIVE_STATUSES', () => {
  it('may list a status upstream added since this release', () => {
    expect(load({ ACTIVE_STATUSES: 'queued,paused' }).activeStatuses).toEqual(['queued', 'paused']);
  });

  it('refuses a terminal status, naming the setting', () => {
    expect(configError({ ACTIVE_STATUSES: 'queued,completed' })).toContain('ACTIVE_STATUSES');
  });
});
