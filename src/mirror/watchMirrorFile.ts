/**
 * Notice the mirror file being deleted or replaced under a running process. SQLite keeps writing into the
 * open (now unlinked) file without an error, so a worker would go on mirroring into nothing; comparing the
 * path's identity (device + inode) with the one opened is the only way to know.
 */
import { statSync } from 'node:fs';

export interface WatchMirrorFileOptions {
  /** How often to look, ms. @default 5000 */
  everyMs?: number;
}

function identity(path: string): string | null {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}

/**
 * Call `onLost` once (with a one-line reason naming MIRROR_DB) when `path` no longer names the file it named
 * at the call. Returns the function that stops watching. In-memory mirrors are not watched.
 */
export function watchMirrorFile(
  path: string,
  onLost: (reason: string) => void,
  opts: WatchMirrorFileOptions = {},
): () => void {
  const opened = path === ':memory:' ? null : identity(path);
  if (opened === null) return () => {};
  const timer = setInterval(() => {
    const now = identity(path);
    if (now === opened) return;
    clearInterval(timer);
    onLost(
      now === null
        ? `the mirror file ${path} was deleted while in use (MIRROR_DB); stopping — restart to mirror into a new file`
        : `the mirror file ${path} was replaced by another file while in use (MIRROR_DB); stopping — restart to use it`,
    );
  }, opts.everyMs ?? 5000);
  timer.unref();
  return () => clearInterval(timer);
}
