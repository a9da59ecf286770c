/**
 * One owner of the terminal while a progress bar is drawn. cli-progress redraws its line in place; a log line
 * written to the same terminal in between lands in the middle of it (`…| ETA 0s[18:44:22] WARN …`). So every
 * log line goes through `terminalStream()`: while a bar is active it is printed above the bar (cli-progress's
 * `MultiBar.log`), otherwise straight to its stream.
 */
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type { MultiBar, Options, SingleBar } from 'cli-progress';

// cli-progress is loaded when a bar is first drawn (by `sync` on a terminal), not by every command's logger.
const requireCliProgress = () =>
  createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');

let activeBars: MultiBar | null = null;
let capture: ((text: string) => void) | null = null;

/**
 * While a full-screen view redraws the terminal (the demo's live view), log lines would be wiped by the
 * next frame: hand them to `onLine` instead, to show inside the frame. Returns the function that stops.
 */
export function captureLogLines(onLine: (text: string) => void): () => void {
  capture = onLine;
  return () => {
    if (capture === onLine) capture = null;
  };
}

/** A writable for log lines bound for `target` that never tears a progress bar. */
export function terminalStream(target: NodeJS.WriteStream): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const text = String(chunk);
      if (capture) capture(text.trimEnd());
      else if (activeBars) {
        const line = text.endsWith('\n') ? text : `${text}\n`;
        // cli-progress turns the terminal's line wrapping off while it draws (ESC[?7l): a line wider than the
        // terminal would be cut at its last column. Wrapping is on while the line is written, off again after.
        activeBars.log(target.isTTY ? `\x1b[?7h${line}\x1b[?7l` : line);
      } else target.write(text);
      done();
    },
  });
}

export interface ProgressBar {
  bar: SingleBar;
  /** Stop drawing, leave the final bar on its own line, and let log lines go straight through again. */
  stop(): void;
}

/** Start a single progress bar whose stream also receives the log lines written meanwhile (above it). */
export function startProgressBar(
  opts: Options,
  total: number,
  start: number,
  payload: Record<string, unknown>,
): ProgressBar {
  const bars = new (requireCliProgress().MultiBar)({ ...opts, clearOnComplete: false });
  const bar = bars.create(total, start, payload);
  activeBars = bars;
  return {
    bar,
    stop() {
      if (activeBars === bars) activeBars = null;
      bars.update(); // flush the log lines buffered since the last redraw (stop() would drop them)
      bars.stop();
    },
  };
}
