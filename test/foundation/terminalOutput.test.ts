/**
 * What a user sees in a terminal: `sync` on a real pseudo-terminal (util-linux `script`) while upstream
 * answers some requests with 500s, replayed through a small terminal model (carriage returns, line clears,
 * cursor moves). Every log line must stand whole on a line of its own, never inside the progress bar, and
 * the final summary must be whole.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';

const BIN = new URL('../../bin/retab-mirror.js', import.meta.url).pathname;
const hasScript = spawnSync('script', ['--version']).status === 0;

/** The screen a terminal shows after `raw`: text lines, with \r, \n, CSI n G/K/J/A/B applied. */
function renderScreen(raw: string): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = () => {
    rows[row] ??= [];
    return rows[row] as string[];
  };
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (ch === '\x1b' && raw[i + 1] === '[') {
      const m = /^\x1b\[([?\d;]*)([A-Za-z])/.exec(raw.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const n = Number.parseInt(m[1] || '0', 10);
      const cmd = m[2];
      if (cmd === 'G') col = Math.max(0, (n || 1) - 1);
      else if (cmd === 'K') {
        if (n === 2) rows[row] = [];
        else line().length = Math.min(line().length, col);
      } else if (cmd === 'J') {
        line().length = Math.min(line().length, col);
        rows.length = row + 1;
      } else if (cmd === 'A') row = Math.max(0, row - (n || 1));
      else if (cmd === 'B') row += n || 1;
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
    } else {
      const l = line();
      while (l.length < col) l.push(' ');
      l[col++] = ch;
    }
  }
  return rows.map((r) => (r ?? []).join('').trimEnd());
}

describe.skipIf(!hasScript)('on a terminal', () => {
  let sim: Simulator;
  let dir: string;
  beforeAll(async () => {
    sim = await startSimulator({
      seed: 4,
      jobs: 600,
      days: 3,
      faults: { probabilities: { http500: 0.15 }, routes: ['list'] },
    });
    dir = mkdtempSync(join(tmpdir(), 'tty-'));
  });
  afterAll(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sync with retries: log lines above the progress bar, never inside it; the summary whole', async () => {
    const command = `${process.execPath} ${BIN} sync --backfill-days 3`;
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: {
        ...process.env,
        RETAB_API_KEY: sim.apiKey,
        RETAB_BASE_URL: sim.url,
        MIRROR_DB: join(dir, 'm.db'),
        PAGE_SIZE: '20',
        LOG_LEVEL: 'info',
        COLUMNS: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let raw = '';
    child.stdout.on('data', (d) => (raw += d));
    const code = await new Promise((r) => child.on('close', r));
    expect(code, raw).toBe(0);
    const screen = renderScreen(raw);
    const logLines = screen.filter((l) => /\b(WARN|INFO)\b/.test(l));
    expect(
      logLines.some((l) => l.includes('retrying')),
      screen.join('\n'),
    ).toBe(true);
    for (const l of logLines) {
      expect(l, screen.join('\n')).toMatch(/^\[\d\d:\d\d:\d\d\] /); // starts its own line
      expect(l).not.toContain('ETA');
    }
    const summary = screen.findIndex((l) => l.startsWith('sync complete in'));
    expect(summary, screen.join('\n')).toBeGreaterThan(-1);
    expect(screen[summary + 1]).toMatch(/^ {2}requests {2}\d+ \(\d+ pages\)$/);
    expect(screen.some((l) => /^mirror: \d+ jobs$/.test(l))).toBe(true);
  }, 60_000);
});
