import { describe, expect, it } from 'vitest';
import { createRetabClient } from '../../src/retab/client.ts';
import { RetabConfigError } from '../../src/retab/errors.ts';
import { CLIENT_DEFAULTS, resolveClientOptions, USER_AGENT } from '../../src/retab/options.ts';

describe('client options', () => {
  it('fails at construction without a key, naming RETAB_API_KEY', () => {
    for (const apiKey of [undefined, '', '   ']) {
      expect(() => createRetabClient({ apiKey })).toThrow(RetabConfigError);
      expect(() => createRetabClient({ apiKey })).toThrow(/RETAB_API_KEY/);
    }
  });

  it('rejects a base URL that is not an http(s) URL, naming the option', () => {
    expect(() => createRetabClient({ apiKey: 'sk-x', baseUrl: 'not a url' })).toThrow(/baseUrl/);
    expect(() => createRetabClient({ apiKey: 'sk-x', baseUrl: 'ftp://example.com/v1' })).toThrow(/baseUrl/);
  });

  it('rejects impossible numbers, naming the option', () => {
    expect(() => createRetabClient({ apiKey: 'sk-x', timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createRetabClient({ apiKey: 'sk-x', maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => createRetabClient({ apiKey: 'sk-x', minRetryDelayMs: 10, maxRetryDelayMs: 5 })).toThrow(
      /minRetryDelayMs/,
    );
  });

  it('fills the documented defaults and a versioned User-Agent', () => {
    const o = resolveClientOptions({ apiKey: 'sk-x' });
    expect(o).toMatchObject({ ...CLIENT_DEFAULTS });
    expect(o.baseUrl).toBe('https://api.retab.com/v1');
    expect(USER_AGENT).toMatch(/^retab-mirror\/\d+\.\d+\.\d+/);
    expect(createRetabClient({ apiKey: 'sk-x', baseUrl: 'http://127.0.0.1:9/v1/' }).baseUrl).toBe(
      'http://127.0.0.1:9/v1',
    );
  });
});
