/**
 * Seeded pseudo-random numbers: the simulator's whole evolution is derived from them, so the same seed and
 * the same sequence of clock advances always give the same jobs, ids and transitions.
 */

/** Mixes two 32-bit values into one well-spread 32-bit seed (murmur3 finaliser). */
export function mixSeed(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const URL_SAFE_CODES = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', (c) =>
  c.charCodeAt(0),
);

/** A small, fast generator (sfc32) with the helpers the simulator needs. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = mixSeed(seed, 1);
    this.b = mixSeed(seed, 2);
    this.c = mixSeed(seed, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** 30 random bits: small enough to be stored unboxed (a V8 small integer) in a million records. */
  seed30(): number {
    return this.uint32() >>> 2;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    let total = 0;
    for (const k in weights) total += weights[k];
    let r = this.next() * total;
    let last: K | undefined;
    for (const k in weights) {
      last = k;
      r -= weights[k];
      if (r < 0) return k;
    }
    return last as K;
  }

  /** Exponentially distributed delay with the given mean (a Poisson process' gaps). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** `length` url-safe characters (A–Z a–z 0–9 - _). */
  urlSafe(length: number): string {
    // One flat string: `+=` would build a chain of cons strings, costly to keep for a million ids.
    const codes = new Array<number>(length);
    for (let i = 0; i < length; i++) codes[i] = URL_SAFE_CODES[this.uint32() & 63] as number;
    return String.fromCharCode(...codes);
  }
}
