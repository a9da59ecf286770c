import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';

// `retab-mirror simulator` as a user runs it: a child process, its two stdout lines, a clean stop.
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function startCli(args: string[], env: Record<string, string | undefined> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'simulator', ...args], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, RETAB_API_KEY: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of rl) {
    lines.push(line);
    if (lines.length === 2) break;
  }
  return { child, lines, stderr: () => stderr };
}

describe('retab-mirror simulator', () => {
  it('prints base URL and key (flag, else RETAB_API_KEY, else generated), serves the API, exits 0 on a signal', async () => {
    const [flagged, fromEnv, generated] = await Promise.all([
      startCli(['--port', '0', '--jobs', '300', '--seed', '2', '--api-key', 'sk-cli-test'], {
        RETAB_API_KEY: 'sk-x',
      }),
      startCli(['--port', '0', '--jobs', '10'], { RETAB_API_KEY: 'sk-from-env' }),
      startCli(['--port', '0', '--jobs', '10']),
    ]);
    const [urlLine, keyLine] = flagged.lines;
    expect(urlLine).toMatch(/^RETAB_BASE_URL=http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(keyLine).toBe('RETAB_API_KEY=sk-cli-test');
    expect(fromEnv.lines[1]).toBe('RETAB_API_KEY=sk-from-env');
    expect(generated.lines[1]).toMatch(/^RETAB_API_KEY=sk-sim-[A-Za-z0-9_-]{20,}$/);

    const url = (urlLine as string).split('=')[1] as string;
    const res = await fetch(`${url}/jobs?limit=100`, { headers: { 'Api-Key': 'sk-cli-test' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(100);
    expect((await fetch(`${url}/jobs`)).status).toBe(401);

    const exits = [flagged, fromEnv, generated].map((c) => once(c.child, 'exit'));
    flagged.child.kill('SIGTERM');
    fromEnv.child.kill('SIGINT');
    generated.child.kill('SIGTERM');
    expect((await Promise.all(exits)).map(([code]) => code)).toEqual([0, 0, 0]);
    expect(flagged.stderr()).toContain('stopped');
  });
});
