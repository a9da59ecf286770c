/**
 * What keeps demos from stepping on each other and on Redis: one demo per database file (the demo recreates
 * its file at start, so a second one would delete the first one's database underneath it), and no keys left
 * under the demo's queue prefix once it ends (each run would otherwise leave thousands of jobs and events).
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';

export class DemoAlreadyRunning extends Error {
  override name = 'DemoAlreadyRunning';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take `<dbPath>.lock` (holding this pid) or throw `DemoAlreadyRunning` naming the pid that holds it. A lock
 * left by a process that no longer runs (killed) is taken over. Returns the release function.
 */
export function lockDemo(dbPath: string): () => void {
  const lockPath = `${dbPath}.lock`;
  mkdirSync(dirname(lockPath), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new DemoAlreadyRunning(
          `a demo is already running on ${dbPath} (pid ${holder}); stop it first, or give this one another --db`,
        );
      }
      rmSync(lockPath, { force: true }); // stale: its process is gone
    }
  }
  throw new DemoAlreadyRunning(`cannot take the demo lock ${lockPath}`);
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
