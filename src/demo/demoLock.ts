/**
 * What keeps demos from stepping on each other and on Redis: one writer per database file (the demo recreates
 * its file at start, so a second demo or a worker on it would lose its database underneath it), and no keys left
 * under the demo's queue prefix once it ends (each run would otherwise leave thousands of jobs and events).
 */
import { Redis } from 'ioredis';
import { lockMirrorWriter, MirrorWriterBusy } from '../mirror/index.ts';

export class DemoAlreadyRunning extends Error {
  override name = 'DemoAlreadyRunning';
}

/**
 * Take the SQLite writer lock of `dbPath` for the demo (mirror/writerLock.ts: `<dbPath>.lock`, shared with
 * `retab-mirror worker`) or throw `DemoAlreadyRunning` naming the pid that holds it. A lock left by a process
 * that no longer runs (killed) is taken over. Returns the release function.
 */
export function lockDemo(dbPath: string): () => void {
  try {
    return lockMirrorWriter(dbPath, 'demo');
  } catch (err) {
    if (!(err instanceof MirrorWriterBusy)) throw err;
    const { pid, role } = err.holder;
    throw new DemoAlreadyRunning(
      role === 'demo'
        ? `a demo is already running on ${dbPath} (pid ${pid}); stop it first, or give this one another --db`
        : `${err.message}; stop the ${role} first, or give the demo another --db`,
    );
  }
}

/** Delete every key under `<prefix>:` (SCAN + UNLINK, in batches). Returns how many were deleted. */
export async function removePrefixKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  let removed = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}
