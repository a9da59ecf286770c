import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig, SETTINGS } from '../../src/config.ts';
import { scrubSecrets } from '../../src/log.ts';

const load = (env: Record<string, string>, extra: Parameters<typeof loadConfig>[0] = {}) =>
  loadConfig({ env, dotenvFile: false, ...extra });

describe('config', () => {
  it('has the documented defaults', () => {
    const c = load({});
    expect(c.baseUrl).toBe('https://api.retab.com/v1');
    expect(c.dbPath).toBe('./data/mirror.db');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.payloadMode).toBe('request');
    expect(c.pageSize).toBe(100);
    expect(c.sources).toEqual(['api', 'project', 'workflow']);
    expect(c.serverHost).toBe('127.0.0.1');
    expect(c.apiKey).toBeUndefined();
    for (const s of SETTINGS) {
      if (s.default !== undefined) expect(c[s.key as keyof typeof c]).toEqual(s.default);
    }
  });

  const bad: [string, string][] = [
    ['RETAB_BASE_URL', 'not a url'],
    ['REDIS_URL', '::nope'],
    ['LOG_LEVEL', 'loud'],
    ['PAGE_SIZE', '0'],
    ['PAGE_SIZE', '101'],
    ['PAGE_SIZE', 'abc'],
    ['PAYLOAD_MODE', 'everything'],
    ['SOURCES', 'api,email'],
    ['BACKFILL_DAYS', '-1'],
    ['POLL_ACTIVE_MS', '5'],
    ['SERVER_PORT', '70000'],
    ['WEBHOOKS', '[{"name":"x"}]'],
    ['ALERT_RULES', '{not json'],
    ['QUEUE_PREFIX', 'a:b'],
    ['EVENTS_QUEUE_ENABLED', 'maybe'],
    // Numbers are plain decimal integers: no hex, exponent, fraction or padding read as something else.
    ['PAGE_SIZE', '0x20'],
    ['PAGE_SIZE', '1e1'],
    ['MAX_RETRIES', '2.0'],
    ['BACKFILL_DAYS', ' 7'],
    // HTTP strips a header's surrounding whitespace: this token could never match.
    ['MIRROR_API_TOKEN', 'tok '],
    ['MIRROR_API_TOKEN', ' tok'],
  ];
  it.each(bad)('rejects %s=%s with an error naming the setting', (name, value) => {
    let error: unknown;
    try {
      load({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(name);
    expect(message.split('\n')).toHaveLength(1);
  });

  it('refuses RETAB_BASE_URL with user:password@ at start-up, in one line naming it, the password masked', () => {
    // Fetch refuses such a URL on every request: the sync would only fail after all its retries.
    const message = (() => {
      try {
        load({ RETAB_BASE_URL: 'https://alice:hunter2secret@api.retab.com/v1' });
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/^Invalid RETAB_BASE_URL .*user:password@/);
    expect(message).not.toContain('hunter2secret');
    expect(message.split('\n')).toHaveLength(1);
  });

  it("MIRROR_DB: a path or a postgres URL, kept as given; a typo'd scheme is refused in one masked line", () => {
    expect(load({ MIRROR_DB: 'postgres://app:pw@db.internal:5432/mirror' }).dbPath).toBe(
      'postgres://app:pw@db.internal:5432/mirror',
    );
    expect(load({ MIRROR_DB: 'postgresql://db.internal/mirror' }).dbPath).toBe(
      'postgresql://db.internal/mirror',
    );
    expect(load({ MIRROR_DB: 'mirror.db' }).dbPath).toBe('mirror.db');
    expect(load({ MIRROR_DB_POOL_SIZE: '4' }).dbPoolSize).toBe(4);
    expect(load({}).dbPoolSize).toBe(10);
    let message = '';
    try {
      load({ MIRROR_DB: 'postgress://app:s3cret@db.internal/mirror' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Invalid MIRROR_DB .*did you mean postgres:\/\//);
    expect(message).not.toContain('s3cret');
    expect(message.split('\n')).toHaveLength(1);
    expect(() => load({ MIRROR_DB: 'mysql://db/mirror' })).toThrow(ConfigError);
  });

  it('ACTIVE_STATUSES: a close typo of a known status is refused with a hint; a new status is accepted', () => {
    expect(() => load({ ACTIVE_STATUSES: 'queued,in_progres' })).toThrow(
      /ACTIVE_STATUSES.*unknown status "in_progres"; did you mean in_progress\?/,
    );
    expect(() => load({ ACTIVE_STATUSES: 'qeued' })).toThrow(/did you mean queued\?/);
    // Retab may add statuses: one that is not a near miss of a known one is swept as given.
    expect(load({ ACTIVE_STATUSES: 'queued,awaiting_review' }).activeStatuses).toEqual([
      'queued',
      'awaiting_review',
    ]);
  });

  it('never prints a secret value in an error', () => {
    expect(() => load({ MIRROR_API_TOKEN: '' })).not.toThrow();
    const c = load({ RETAB_API_KEY: 'sk-very-secret' });
    expect(JSON.stringify(redactConfig(c))).not.toContain('sk-very-secret');
  });

  it('masks every credential wherever it sits, and scrubs it from log and error lines', () => {
    const c = load({
      REDIS_URL: 'redis://worker:redis-pass-9731@cache.internal:6379/2',
      WEBHOOKS: JSON.stringify([
        {
          name: 'ops',
          url: 'https://hooks.example.com/in?token=hook-token-5521&team=ops',
          secret: 'whsec-4417',
        },
      ]),
    });
    const shown = JSON.stringify(redactConfig(c));
    for (const secret of ['redis-pass-9731', 'hook-token-5521', 'whsec-4417']) {
      expect(shown).not.toContain(secret);
      expect(scrubSecrets(`connect failed: ${secret}`)).toBe('connect failed: [Redacted]');
    }
    const r = redactConfig(c) as { redisUrl: string; webhooks: Record<string, string>[] };
    expect(r.redisUrl).toBe('redis://worker:********@cache.internal:6379/2');
    expect(r.webhooks[0]).toEqual({
      name: 'ops',
      url: 'https://hooks.example.com/in?token=********&team=ops',
      secret: '********',
    });
  });

  it('a password that is not valid percent-encoding (a raw %) is masked, not a crash', () => {
    const c = load({ REDIS_URL: 'redis://:ab%zz-100%@127.0.0.1:6379' });
    const shown = JSON.stringify(redactConfig(c));
    expect(shown).not.toContain('ab%zz');
    expect((redactConfig(c) as { redisUrl: string }).redisUrl).toBe('redis://:********@127.0.0.1:6379');
    expect(scrubSecrets('auth ab%zz-100% refused')).toBe('auth [Redacted] refused');
    // A percent-encoded one is scrubbed as written and decoded.
    load({ REDIS_URL: 'redis://:p%40ss-8812@127.0.0.1:6379' });
    expect(scrubSecrets('p@ss-8812 / p%40ss-8812')).toBe('[Redacted] / [Redacted]');
  });

  it('an out-of-range number is told its range, not that it is not a decimal integer', () => {
    for (const [name, value, range] of [
      ['RATE_LIMIT_RPS', '0', 'from 1 to'],
      ['PAGE_SIZE', '500', 'from 1 to 100'],
      ['MAX_RETRIES', '99999999999999999999', 'from 0 to'],
    ] as const) {
      let message = '';
      try {
        load({ [name]: value });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain(name);
      expect(message).toContain(range);
      expect(message).not.toContain('plain decimal');
    }
  });

  it('a refused value is echoed with its credentials masked, even when it does not parse', () => {
    const cases: [Record<string, string>, string[]][] = [
      [{ REDIS_URL: 'redis://:redis-pass-6612@127.0.0.1:notaport' }, ['redis-pass-6612']],
      [{ REDIS_URL: 'redis://:p@ss-4401@127.0.0.1:notaport' }, ['p@ss-4401', 'ss-4401']],
      [{ WEBHOOKS: '[{"name":"a","url":"not a url","secret":"whsec-3319"}]' }, ['whsec-3319']],
      [
        // Not even JSON (a trailing comma), with the secret past the 80 characters the line keeps.
        {
          WEBHOOKS:
            '[{"name":"a","url":"https://hooks.example.com/in?token=tok-8830","secret":"whsec-2207", }]',
        },
        ['tok-8830', 'whsec-2207', 'whsec-22', 'tok-88'],
      ],
      [{ WEBHOOKS: '[{"name":"a","url":"https://x.example.com","secret":55512345}]' }, ['55512345']],
      [{ RETAB_BASE_URL: 'https://:base-pass-1189@api.example.com:99999/v1' }, ['base-pass-1189']],
    ];
    for (const [env, secrets] of cases) {
      let message = '';
      try {
        load(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message).toMatch(new RegExp(Object.keys(env)[0] as string));
      for (const secret of secrets) expect(message).not.toContain(secret);
    }
  });

  it('masks the secrets inside WEBHOOKS, in `config` output and in an error about WEBHOOKS', () => {
    const secret = 'whsec_dG9wLXNlY3JldC1ieXRlcw==';
    const c = load({
      WEBHOOKS: JSON.stringify([{ name: 'ops', url: 'https://example.com/hook', secret }]),
    });
    const shown = JSON.stringify(redactConfig(c));
    expect(shown).not.toContain(secret);
    expect(shown).toContain('https://example.com/hook'); // the rest stays readable
    expect(c.webhooks[0]?.secret).toBe(secret); // only the printed copy is masked
    const withPassword = load({
      WEBHOOKS: JSON.stringify([{ name: 'basic', url: 'https://ops:pa55word@example.com/hook' }]),
    });
    expect(JSON.stringify(redactConfig(withPassword))).not.toContain('pa55word');
    for (const value of [
      JSON.stringify([{ name: 'ops', url: 'not a url', secret }]),
      `[{"name":"ops","secret":"${secret}","url":`, // not even JSON
    ]) {
      expect(() => load({ WEBHOOKS: value })).toThrow(ConfigError);
      try {
        load({ WEBHOOKS: value });
      } catch (err) {
        expect((err as Error).message).toContain('WEBHOOKS');
        expect((err as Error).message).not.toContain('dG9wLXNlY3JldC1ieXRlcw');
      }
    }
  });

  it('applies env > .env > config file > default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ pageSize: 50, backfillDays: 3, payloadMode: 'full' }));
    const dotenv = join(dir, '.env');
    writeFileSync(dotenv, 'BACKFILL_DAYS=9\nPAGE_SIZE=60\n');
    const c = load({ PAGE_SIZE: '70' }, { configFile: file, dotenvFile: dotenv });
    expect(c.pageSize).toBe(70); // env
    expect(c.backfillDays).toBe(9); // .env beats the file
    expect(c.payloadMode).toBe('full'); // file beats the default
    expect(c.logLevel).toBe('info'); // default
  });

  it('rejects a broken or unknown config file clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ pageSize: ');
    expect(() => load({}, { configFile: broken })).toThrow(/not valid JSON/);
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, '{"pageSzie": 3}');
    expect(() => load({}, { configFile: unknown })).toThrow(/unknown setting "pageSzie"/);
    expect(() => load({}, { configFile: join(dir, 'missing.json') })).toThrow(/not found/);
    const badValue = join(dir, 'bad.json');
    writeFileSync(badValue, '{"pageSize": 500}');
    expect(() => load({}, { configFile: badValue })).toThrow(/PAGE_SIZE \(config file key "pageSize"\)/);
  });
});
