import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });

describe('cli', () => {
  it('--help lists the commands', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: retab-mirror');
    expect(r.stdout).toContain('config');
  });

  it('--version prints the package version', () => {
    const r = run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('an unknown command or flag is a usage error with exit code 2', () => {
    const r = run(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(run(['config', '--bogus-flag']).status).toBe(2);
  });

  it('a bad setting fails in one line naming it; secrets stay masked', () => {
    const r = run(['config'], { PAGE_SIZE: 'lots' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('PAGE_SIZE');
    const ok = run(['config', '--json'], { RETAB_API_KEY: 'sk-cli-secret-1234' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).not.toContain('sk-cli-secret-1234');
    expect(JSON.parse(ok.stdout).apiKey).toBe('********');
  });

  it('config masks the Redis password in REDIS_URL and each webhook secret, in text and JSON', () => {
    const env = {
      REDIS_URL: 'redis://:redis-pass-2291@127.0.0.1:6379',
      WEBHOOKS:
        '[{"name":"ops","url":"https://hooks.example.com/x?sig=sig-value-8812","secret":"whsec-7731"}]',
    };
    for (const args of [['config'], ['config', '--json']]) {
      const r = run(args, env);
      expect(r.status).toBe(0);
      for (const secret of ['redis-pass-2291', 'sig-value-8812', 'whsec-7731'])
        expect(r.stdout).not.toContain(secret);
      expect(r.stdout).toContain('redis://:********@127.0.0.1:6379');
    }
  });

  it('MIRROR_API_TOKEN with a trailing space is refused at start-up in one line', () => {
    const r = run(['config'], { MIRROR_API_TOKEN: 'tok ' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/MIRROR_API_TOKEN.*whitespace/);
  });

  it('a mirror file that cannot be opened: one line naming the file and MIRROR_DB, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'retab-cli-'));
    try {
      const missing = run(['events', 'cursors'], { MIRROR_DB: join(dir, 'none.db') });
      expect(missing.status).toBe(1);
      expect(missing.stderr).toBe(
        `retab-mirror: ${join(dir, 'none.db')} does not exist; run a sync first (MIRROR_DB)\n`,
      );
      writeFileSync(join(dir, 'notes.db'), 'not a database at all');
      const garbage = run(['events', 'cursors'], { MIRROR_DB: join(dir, 'notes.db') });
      expect(garbage.status).toBe(1);
      expect(garbage.stderr.trim().split('\n')).toHaveLength(1);
      expect(garbage.stderr).toMatch(/notes\.db is not an SQLite database; point MIRROR_DB at/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
