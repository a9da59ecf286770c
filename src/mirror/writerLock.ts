/**
 * SQLite has one writer: one process (a worker or a demo) writes a mirror file at a time. Two workers on one
 * file would each sweep every partition with in-process locks only, and a demo recreates its file at start,
 * deleting a running worker's database underneath it. A fleet of workers needs PostgreSQL (DESIGN.md §9).
 *
 * The lock is a file beside the mirror, `<file>.lock`, created with `O_EXCL` and holding the writer's
 * `{ pid, host, role }` as JSON (a bare pid, as older demos wrote, reads as a demo on this host). A lock left
 * by a process that no longer runs on this host (killed, crashed) is taken over; one from another host cannot
 * be checked and is honoured (its message says which file to delete if that host's process is gone). Inside
 * one process the lock is shared: a second taker (the demo's worker, tests) gets it and the file goes when
 * the last one releases. PostgreSQL mirrors are not locked: several workers share them by design.
 */
import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { isProcessAlive } from '../processAlive.ts';

/** Who writes a mirror file. */
export type WriterRole = 'worker' | 'demo' | 'sync';

export interface WriterLockHolder {
  pid: number;
  host: string;
  role: WriterRole;
}

/** Thrown by `lockMirrorWriter` when another live process holds the file; `holder` says which. */
export class MirrorWriterBusy extends Error {
  override name = 'MirrorWriterBusy';
  constructor(
    /** The mirror file, absolute. */
    readonly path: string,
    readonly holder: WriterLockHolder,
  ) {
    super(
      `${path} is already written by the ${holder.role} pid ${holder.pid} on host ${holder.host}; SQLite has one writer` +
        (holder.host === hostname() ? '' : ` (if that process is gone, delete ${path}.lock)`),
    );
  }
}

function readHolder(lockPath: string): WriterLockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8').trim();
  } catch {
    return undefined; // released between our create and our read: try again
  }
  if (/^\d+$/.test(text)) return { pid: Number(text), host: hostname(), role: 'demo' };
  try {
    const v = JSON.parse(text) as Partial<WriterLockHolder>;
    if (Number.isInteger(v.pid) && typeof v.host === 'string')
      return {
        pid: v.pid as number,
        host: v.host,
        role: v.role === 'demo' || v.role === 'sync' ? v.role : 'worker',
      };
  } catch {}
  return undefined; // garbage (a write cut short by a crash): stale
}

/** Locks this process holds: lock path → how many takers share it. */
const held = new Map<string, number>();

/**
 * Take the writer lock of the SQLite mirror `dbPath` (`<dbPath>.lock`) for `role`, or throw
 * `MirrorWriterBusy` naming the live process that holds it. Returns the release function (idempotent; the
 * file is removed when the last taker in this process releases).
 * @throws MirrorWriterBusy; the fs error when the lock cannot be written (read-only folder).
 */
/**
 * The file's real path (symlinks resolved; of its folder when the file does not exist yet), so one file reached
 * by two paths has one lock. A hard link is still a second path: SQLite files are not hard-linked in practice.
 */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}

export function lockMirrorWriter(dbPath: string, role: WriterRole): () => void {
  const path = realPath(resolve(dbPath));
  const lockPath = `${path}.lock`;
  const share = (): (() => void) => {
    held.set(lockPath, (held.get(lockPath) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (held.get(lockPath) ?? 1) - 1;
      if (left > 0) held.set(lockPath, left);
      else {
        held.delete(lockPath);
        rmSync(lockPath, { force: true });
      }
    };
  };
  if (held.has(lockPath)) return share();
  mkdirSync(dirname(lockPath), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), role }));
      closeSync(fd);
      return share();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(lockPath);
    if (holder && (holder.host !== hostname() || (holder.pid !== process.pid && isProcessAlive(holder.pid))))
      throw new MirrorWriterBusy(path, holder);
    if (holder || attempt > 0) rmSync(lockPath, { force: true }); // stale: its process is gone
  }
  throw new Error(`cannot take the writer lock ${lockPath}; delete it if no worker or demo runs`);
}
