/**
 * The console's aggregate index: an in-memory, columnar copy of the eight small columns its charts group
 * and filter by (status, endpoint, source, model, error code, created_at, queue wait, run time), one slot
 * per job `seq` (the rowid). ~20 bytes a job: 1M jobs is ~20 MB, and a full pass over it with any filter
 * is a tight loop over typed arrays (a few ms), where the same aggregate in SQL reads every row of the
 * jobs table (seconds at 1M: no index covers these columns together, and one would tax every page the
 * sync writes).
 *
 * Freshness, without touching the writer: new jobs are the rows past the highest seq loaded (rowids only
 * grow); a job whose status changed has an outbox event (`job_events`), so the rows named by events past
 * the last one read are re-read by id. Columns that change without an event (a model learned later by
 * hydration) are caught by a background re-scan every `rescanMs`. Reads are read-only: the server's own
 * connection, never the sync's.
 */
import type { JobColumnsRow, MirrorStore } from '../mirror/index.ts';

/** Strings of one column as small integer codes; code 0 is "none" (SQL NULL). */
export class Dictionary {
  readonly values: (string | null)[] = [null];
  readonly #codes = new Map<string, number>();

  code(value: string | null): number {
    if (value === null) return 0;
    let c = this.#codes.get(value);
    if (c === undefined) {
      c = this.values.length;
      this.values.push(value);
      this.#codes.set(value, c);
    }
    return c;
  }

  /** The code of a value already seen; undefined when no job has it. */
  find(value: string): number | undefined {
    return this.#codes.get(value);
  }
}

type Row = JobColumnsRow;

export interface JobColumnsOptions {
  /** Rows read per step of the initial load and of a re-scan (the event loop runs between steps). @default 50000 */
  chunk?: number;
  /** How often the whole table is re-read in the background, ms. @default 600000 */
  rescanMs?: number;
  now?: () => number;
}

export class JobColumns {
  /** One past the highest seq held: iterate `0 .. size - 1`, skipping slots where `present` is 0. */
  size = 0;
  present = new Uint8Array(0);
  status = new Uint8Array(0);
  endpoint = new Uint16Array(0);
  source = new Uint8Array(0);
  model = new Uint16Array(0);
  errorCode = new Uint16Array(0);
  /** Unix seconds. */
  createdAt = new Uint32Array(0);
  /** `started_at − created_at`, seconds; −1 when the job has not started. */
  wait = new Int32Array(0);
  /** `completed_at − started_at`, seconds; −1 when not both known. */
  duration = new Int32Array(0);
  readonly dict = {
    status: new Dictionary(),
    endpoint: new Dictionary(),
    source: new Dictionary(),
    model: new Dictionary(),
    errorCode: new Dictionary(),
  };
  /** Resolves once every job present at start is loaded. */
  readonly ready: Promise<void>;

  readonly #store: MirrorStore;
  readonly #chunk: number;
  readonly #rescanMs: number;
  readonly #now: () => number;
  #maxSeq = 0;
  #eventSeq = 0;
  #lastRescanAt = 0;
  #rescanning = false;
  #closed = false;

  /** `store`: the server's own (read-only) connection, never the sync's. */
  constructor(store: MirrorStore, opts: JobColumnsOptions = {}) {
    this.#store = store;
    this.#chunk = opts.chunk ?? 50_000;
    this.#rescanMs = opts.rescanMs ?? 600_000;
    this.#now = opts.now ?? Date.now;
    this.ready = this.#load();
  }

  /** Stop background re-scans (the connection is about to close). */
  close(): void {
    this.#closed = true;
  }

  async #load(): Promise<void> {
    // Events written from here on are replayed by refresh(); rows they name are re-read then.
    this.#eventSeq = await this.#store.outbox.maxSeq();
    await this.#scan(true);
    this.#lastRescanAt = this.#now();
  }

  /** Read every row in steps of `chunk`, yielding to the event loop between steps. */
  async #scan(grow: boolean): Promise<void> {
    let from = 0;
    const end = grow ? Number.POSITIVE_INFINITY : this.#maxSeq;
    while (!this.#closed && from < end) {
      const rows = await this.#store.views.jobColumnsAfter(from, this.#chunk);
      for (const r of rows) if (r[0] <= end) this.#put(r);
      if (rows.length < this.#chunk) break;
      from = (rows[rows.length - 1] as Row)[0];
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /**
   * Bring the columns level with the database: new rows, then rows named by new outbox events. Cheap when
   * little changed (two index range reads); call it before answering.
   */
  async refresh(): Promise<void> {
    const fresh = await this.#store.views.jobColumnsAfter(this.#maxSeq);
    for (const r of fresh) this.#put(r);
    const ids = await this.#store.views.eventJobIdsAfter(this.#eventSeq);
    if (ids.length > 0) {
      this.#eventSeq = (ids[ids.length - 1] as [number, string])[0];
      const unique = [...new Set(ids.map((e) => e[1]))];
      for (const r of await this.#store.views.jobColumnsOf(unique)) this.#put(r);
    }
    if (!this.#rescanning && this.#now() - this.#lastRescanAt >= this.#rescanMs) {
      this.#rescanning = true;
      void this.#scan(false).finally(() => {
        this.#rescanning = false;
        this.#lastRescanAt = this.#now();
      });
    }
  }

  #grow(seq: number): void {
    let cap = Math.max(1024, this.present.length);
    while (cap <= seq) cap *= 2;
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(
      a: T,
      make: (n: number) => T,
    ) => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.present = grow(this.present, (n) => new Uint8Array(n));
    this.status = grow(this.status, (n) => new Uint8Array(n));
    this.endpoint = grow(this.endpoint, (n) => new Uint16Array(n));
    this.source = grow(this.source, (n) => new Uint8Array(n));
    this.model = grow(this.model, (n) => new Uint16Array(n));
    this.errorCode = grow(this.errorCode, (n) => new Uint16Array(n));
    this.createdAt = grow(this.createdAt, (n) => new Uint32Array(n));
    this.wait = grow(this.wait, (n) => new Int32Array(n));
    this.duration = grow(this.duration, (n) => new Int32Array(n));
  }

  #put(r: Row): void {
    const [seq, status, endpoint, source, model, errorCode, createdAt, startedAt, completedAt] = r;
    if (seq >= this.present.length) this.#grow(seq);
    this.present[seq] = 1;
    this.status[seq] = this.dict.status.code(status);
    this.endpoint[seq] = this.dict.endpoint.code(endpoint);
    this.source[seq] = this.dict.source.code(source);
    this.model[seq] = this.dict.model.code(model);
    this.errorCode[seq] = this.dict.errorCode.code(errorCode);
    this.createdAt[seq] = createdAt;
    this.wait[seq] = startedAt === null ? -1 : Math.max(0, startedAt - createdAt);
    this.duration[seq] =
      startedAt === null || completedAt === null ? -1 : Math.max(0, completedAt - startedAt);
    if (seq > this.#maxSeq) this.#maxSeq = seq;
    if (seq + 1 > this.size) this.size = seq + 1;
  }
}
