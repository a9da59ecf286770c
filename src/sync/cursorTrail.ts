/**
 * Where a walk can resume when upstream rejects its cursor (400 `invalid_cursor`: the cursor job was deleted,
 * e.g. by retention, between two pages). The trail keeps the positions the walk committed in this run; a
 * rejected one is dropped and the walk resumes from the one before it (itself valid when last used), down to
 * the top of the listing. So a walk survives any number of vanished cursors, as long as it keeps making
 * progress:
 *
 * - stepping back to an older position consumes the trail (finite);
 * - a restart from the top is allowed only if the walk reached a position it had never reached before since
 *   the previous restart from the top: an upstream that rejects every cursor fails the run instead of looping;
 * - and at most `MAX_CURSOR_RESTARTS` restarts per walk in any case.
 */

/** Restarts of one walk at most, whatever the progress (a safety bound; each needs a deleted job). */
export const MAX_CURSOR_RESTARTS = 50;
/** Positions remembered beyond the top (older ones are dropped: stepping back further re-walks from the top). */
const TRAIL_LENGTH = 32;

export class CursorTrail {
  /** Oldest first; `undefined` = the top of the listing (no cursor). The last one is where the walk is. */
  private readonly positions: (string | undefined)[];
  private readonly reached = new Set<string>();
  private freshSinceTop = false;
  private restarts = 0;

  constructor(start: string | undefined) {
    this.positions = start === undefined ? [undefined] : [undefined, start];
    if (start !== undefined) this.reached.add(start);
    // A walk resuming a stored cursor has not walked from the top in this run: that restart is allowed.
    this.freshSinceTop = start !== undefined;
  }

  /** Where the walk is (and resumes from): a cursor, or undefined for the top. */
  get current(): string | undefined {
    return this.positions[this.positions.length - 1];
  }

  /** How many times the walk was restarted so far. */
  get restartCount(): number {
    return this.restarts;
  }

  /** A page up to `cursor` was committed. */
  advance(cursor: string | null | undefined): void {
    if (cursor === null || cursor === undefined || cursor === this.current) return;
    if (!this.reached.has(cursor)) {
      this.reached.add(cursor);
      this.freshSinceTop = true;
    }
    this.positions.push(cursor);
    if (this.positions.length > TRAIL_LENGTH + 1) this.positions.splice(1, 1);
  }

  /**
   * The current cursor was rejected: drop it and return the position to resume from (`{ from: undefined }` is
   * the top), or undefined when the walk must give up (no progress, or the bound is reached).
   */
  fallback(): { from: string | undefined } | undefined {
    if (this.current === undefined || this.restarts >= MAX_CURSOR_RESTARTS) return undefined;
    this.positions.pop();
    const from = this.current;
    if (from === undefined) {
      if (!this.freshSinceTop) return undefined;
      this.freshSinceTop = false;
    }
    this.restarts++;
    return { from };
  }
}
