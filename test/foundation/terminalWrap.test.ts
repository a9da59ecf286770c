/**
 * A log line longer than the terminal is wide, printed above a progress bar: cli-progress turns the
 * terminal's line wrapping off while it draws (DECAWM, `ESC[?7l`), so such a line was cut at the terminal's
 * width — its last character overwriting the last column (`… fetch failed: connect}`): the cause of an
 * error lost exactly when there is one to read. It must stand whole (wrapped over several rows).
 */
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { startProgressBar, terminalStream } from '../../src/terminal.ts';

const WIDTH = 40;

/** The rows a terminal of WIDTH columns shows: \r, \n, CSI G/K/A/B, and auto-wrap on (?7h) or off (?7l). */
function screen(raw: string): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  let wrap = true;
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
      const arg = m[1] ?? '';
      const n = Number.parseInt(arg.replace('?', '') || '0', 10);
      const cmd = m[2];
      if (arg === '?7' && cmd === 'h') wrap = true;
      else if (arg === '?7' && cmd === 'l') wrap = false;
      else if (cmd === 'G') col = Math.max(0, (n || 1) - 1);
      else if (cmd === 'K') {
        if (n === 2) rows[row] = [];
        else line().length = Math.min(line().length, col);
      } else if (cmd === 'A') row = Math.max(0, row - (n || 1));
      else if (cmd === 'B') row += n || 1;
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
    } else {
      if (col >= WIDTH) {
        if (wrap) {
          row++;
          col = 0;
        } else col = WIDTH - 1; // no wrap: the last column is overwritten
      }
      const l = line();
      while (l.length < col) l.push(' ');
      l[col++] = ch;
    }
  }
  return rows.map((r) => (r ?? []).join(''));
}

it('a log line wider than the terminal, written while a bar is drawn, stays whole above it', async () => {
  let raw = '';
  const tty = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        raw += String(chunk);
        done();
      },
    }),
    { isTTY: true, columns: WIDTH, rows: 24 },
  ) as unknown as NodeJS.WriteStream;
  const progress = startProgressBar({ format: 'sync [{bar}] {value}/{total}', stream: tty }, 10, 0, {});
  const log = terminalStream(tty);
  const message = '[12:00:00] ERROR: window failed: connect ECONNREFUSED 127.0.0.1:18799 (GET /jobs)';
  log.write(`${message}\n`);
  progress.bar.update(5);
  progress.stop();
  const rows = screen(raw);
  const text = rows.join('');
  expect(text, rows.join('\n')).toContain(message);
  expect(rows.some((r) => r.startsWith('sync ['))).toBe(true);
});
