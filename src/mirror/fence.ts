/**
 * Fencing tokens: what makes a partition lease safe to write under. A lease (src/fleet/lease.ts) can be lost
 * while its holder still believes it holds it (a GC pause, SIGSTOP, a network split longer than the TTL); the
 * next holder then writes the same partition. So each holder, on taking the lease, bumps the partition's
 * `sync_state.fence` in the mirror (`syncState.takeFence`: the new value is its token) and every checkpoint
 * write of its task carries that token; the store commits it only while `fence` still equals the token. A late
 * writer's page (rows, events, checkpoint) rolls back whole with `FencedWriteError`. The store, not Redis, is
 * the source of truth: a Redis that lost its data cannot hand out an old token. (Kleppmann, "How to do
 * distributed locking", 2016.) Writes without a token (the CLI's `sync`, the library) stay unconditional.
 */
import type { MirrorStore } from './store.ts';

/** The lease a write is made under: `sync_state.fence` of `partition` must equal `token` for it to commit. */
export interface FenceToken {
  /** The leased partition (`head`, `window:2026-11-01`, …): the row whose `fence` is compared. */
  partition: string;
  /** The value `syncState.takeFence(partition)` returned when the lease was taken. */
  token: number;
}

/**
 * A write carried a fencing token older than the partition's: another worker took the partition over after
 * this one's lease lapsed. Nothing of the write was stored. Not worth retrying: the new holder does the work.
 */
export class FencedWriteError extends Error {
  override name = 'FencedWriteError';
  constructor(
    readonly partition: string,
    /** The token the write carried. */
    readonly token: number,
    /** The partition's token in the store (undefined when it has no sync_state row). */
    readonly current: number | undefined,
  ) {
    super(
      `write to partition ${partition} refused: fencing token ${token} is stale (the mirror holds ${current ?? 'none'}); another worker took the partition over after this one's lease expired, so it stopped without writing`,
    );
  }
}

/** The first FencedWriteError in `err`'s cause chain, if any. */
export function fencedWriteOf(err: unknown): FencedWriteError | undefined {
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    if (cur instanceof FencedWriteError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * `store` as seen by a task holding a lease: every page (`jobs.applyPage`) and checkpoint (`syncState.save`)
 * it writes carries `fence`, and once `lost` aborts (the lease is gone) they reject with its reason before
 * reaching the store: a task that lost its lease writes nothing more, not even the pages it had received
 * (an abort at shutdown writes them; here another worker owns them now). Everything else is `store` itself.
 */
export function fencedStore(store: MirrorStore, fence: FenceToken, lost?: AbortSignal): MirrorStore {
  const { jobs, syncState } = store;
  const view = Object.create(store) as MirrorStore;
  return Object.assign(view, {
    jobs: {
      ...jobs,
      applyPage: async (page, opts) => {
        lost?.throwIfAborted();
        return jobs.applyPage(page, { ...opts, fence });
      },
    },
    syncState: {
      ...syncState,
      save: async (patch, now) => {
        lost?.throwIfAborted();
        return syncState.save(patch, now, fence);
      },
    },
  } satisfies Pick<MirrorStore, 'jobs' | 'syncState'>);
}
