/**
 * Which of a filter's literals the pg_trgm index should look up. pg_trgm turns `LIKE '%lit%'` into the
 * trigrams of each word (run of letters and digits) of `lit`, padded where a separator or an anchored end
 * touches it, and a GIN scan reads the posting list of every one of them: a literal such as
 * `scan 2026-10-06 (2).pdf` reads the lists of `2026` and `pdf`, which nearly every name holds (~50 ms at 1M
 * jobs), where `-10-06 (` alone finds the same few names in a few ms. So each literal is cut into chunks,
 * one word and the separator on each side (the same trigrams as the whole, word by word), and the chunks
 * that a sample of the stored names says are common are left out of the lookup, as are, in an AND, the
 * common parts when a rare one is there. Leaving parts out only weakens the lookup (every chunk is a
 * substring of its literal): the exact condition is still applied to the candidates.
 *
 * The sample is the planner's own (`pg_stats` of the index expression: its histogram bounds and most common
 * values, about 140 names with the default statistics target), read once per pool and refreshed every 10
 * minutes; without statistics (a mirror never analysed) the literals are looked up whole, as before.
 */
import type pg from 'pg';
import { and, type LiteralQuery, or } from '../literalQuery.ts';

/** Fewer sampled names than this: no statistics worth using. */
const MIN_SAMPLE = 30;
const REFRESH_MS = 10 * 60_000;
const BOUNDARY = '\n';

const samples = new WeakMap<pg.Pool, { at: number; names: readonly string[] | undefined }>();

/** Forget a pool's cached sample (tests: after an ANALYZE). */
export function forgetSampleNames(pool: pg.Pool): void {
  samples.delete(pool);
}

/** The planner's sample of folded filenames, cached per pool; undefined without statistics. */
export async function sampleNames(pool: pg.Pool, c: pg.PoolClient): Promise<readonly string[] | undefined> {
  const hit = samples.get(pool);
  if (hit && Date.now() - hit.at < REFRESH_MS) return hit.names;
  const r = await c.query<{ names: string[] | null }>(
    `SELECT coalesce(histogram_bounds::text::text[], '{}') || coalesce(most_common_vals::text::text[], '{}') AS names
     FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'job_files_filename_trgm_idx'`,
  );
  const all = r.rows.flatMap((row) => row.names ?? []);
  const names = all.length >= MIN_SAMPLE ? all : undefined;
  samples.set(pool, { at: Date.now(), names });
  return names;
}

const isWord = (c: string) => /^[a-z0-9]$/.test(c);

/** The chunks of a literal (folded, `\n` marking an anchored end): one word with a separator either side. */
export function chunks(lit: string): string[] {
  const start = lit.startsWith(BOUNDARY);
  const end = lit.length > 1 && lit.endsWith(BOUNDARY);
  const core = lit.slice(start ? 1 : 0, end ? -1 : undefined);
  const out: string[] = [];
  for (let i = 0; i < core.length; ) {
    if (!isWord(core[i] as string)) {
      i++;
      continue;
    }
    let j = i;
    while (j < core.length && isWord(core[j] as string)) j++;
    const from = Math.max(0, i - 1);
    const to = Math.min(core.length, j + 1);
    // pg_trgm pads a word with two blanks in front and one behind where a separator or an anchor touches it.
    const padded = (i > 0 || start ? 2 : 0) + (j - i) + (j < core.length || end ? 1 : 0);
    if (padded >= 3)
      out.push(
        `${from === 0 && start ? BOUNDARY : ''}${core.slice(from, to)}${to === core.length && end ? BOUNDARY : ''}`,
      );
    i = j;
  }
  return out;
}

/** One sampled name as pg_trgm indexes it: the trigrams of each word, padded with two blanks before, one after. */
function nameTrigrams(name: string): Set<string> {
  const out = new Set<string>();
  for (const word of name.match(/[a-z0-9]+/g) ?? []) {
    const w = `  ${word} `;
    for (let k = 0; k + 3 <= w.length; k++) out.add(w.slice(k, k + 3));
  }
  return out;
}

/** The trigrams pg_trgm looks up for `LIKE` on a literal (padded where a separator or an anchor touches a word). */
const trigramsOf = new Map<string, string[]>();
export function likeTrigrams(lit: string): string[] {
  let hit = trigramsOf.get(lit);
  if (!hit) {
    hit = computeLikeTrigrams(lit);
    if (trigramsOf.size >= 4096) trigramsOf.clear();
    trigramsOf.set(lit, hit);
  }
  return hit;
}

function computeLikeTrigrams(lit: string): string[] {
  const start = lit.startsWith(BOUNDARY);
  const end = lit.length > 1 && lit.endsWith(BOUNDARY);
  const core = lit.slice(start ? 1 : 0, end ? -1 : undefined);
  const out = new Set<string>();
  for (const m of core.matchAll(/[a-z0-9]+/g)) {
    const i = m.index ?? 0;
    const j = i + m[0].length;
    const w = `${i > 0 || start ? '  ' : ''}${m[0]}${j < core.length || end ? ' ' : ''}`;
    for (let k = 0; k + 3 <= w.length; k++) out.add(w.slice(k, k + 3));
  }
  return [...out];
}

/** Weight of a candidate (a heap row fetched and rechecked, ~1.5 µs) against one posting-list entry read (~5–10 ns). */
const RECHECK = 200;

interface Sample {
  names: Set<string>[];
  /** Share of names holding each trigram. */
  share: Map<string, number>;
  /** Lookups already worked out, by query. */
  memo: Map<string, LiteralQuery>;
}
const prepared = new WeakMap<readonly string[], Sample>();

function prepare(names: readonly string[]): Sample {
  let p = prepared.get(names);
  if (!p) {
    p = { names: names.map(nameTrigrams), share: new Map(), memo: new Map() };
    prepared.set(names, p);
  }
  return p;
}

/** What a lookup costs: the posting lists it reads, as shares of all names. */
function cost(q: LiteralQuery, p: Sample): number {
  switch (q.op) {
    case 'all':
    case 'none':
      return 0;
    case 'lit': {
      let c = 0;
      for (const t of likeTrigrams(q.lit)) {
        let sh = p.share.get(t);
        if (sh === undefined) {
          sh = p.names.filter((n) => n.has(t)).length / Math.max(1, p.names.length);
          p.share.set(t, sh);
        }
        c += sh;
      }
      return c;
    }
    case 'and':
    case 'or':
      return q.args.reduce((a, x) => a + cost(x, p), 0);
  }
}

/** Does a sampled name hold every trigram the lookup needs? */
function holds(q: LiteralQuery, name: Set<string>): boolean {
  switch (q.op) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'lit':
      return likeTrigrams(q.lit).every((t) => name.has(t));
    case 'and':
      return q.args.every((a) => holds(a, name));
    case 'or':
      return q.args.some((a) => holds(a, name));
  }
}

/**
 * Greedily, the parts whose posting lists cost less than the candidates they remove. Past what the sample
 * can tell apart (no sampled name left), the parts are taken as independent: their shares multiply.
 */
function choose(items: LiteralQuery[], p: Sample): LiteralQuery {
  const n = Math.max(1, p.names.length);
  const alone = new Map(
    items.map((it) => [it, Math.max(0.5, p.names.filter((nm) => holds(it, nm)).length) / n]),
  );
  let alive = p.names;
  let independent = 1;
  let chosen: LiteralQuery[] = [];
  let objective = RECHECK;
  let left = [...items];
  for (;;) {
    let best: { i: number; objective: number; alive: Set<string>[]; independent: number } | undefined;
    const spent = chosen.reduce((a, x) => a + cost(x, p), 0);
    left.forEach((item, i) => {
      const still = alive.filter((name) => holds(item, name));
      const ind = independent * (alone.get(item) ?? 1);
      const share = still.length > 0 ? still.length / n : Math.min(0.5 / n, ind);
      const o = spent + cost(item, p) + RECHECK * share;
      if (!best || o < best.objective) best = { i, objective: o, alive: still, independent: ind };
    });
    if (!best || best.objective >= objective) break;
    const b: { i: number; objective: number; alive: Set<string>[]; independent: number } = best;
    chosen = [...chosen, left[b.i] as LiteralQuery];
    left = left.filter((_, i) => i !== b.i);
    alive = b.alive;
    independent = b.independent;
    objective = b.objective;
  }
  return and(...chosen);
}

function lookup(q: LiteralQuery, p: Sample): LiteralQuery {
  switch (q.op) {
    case 'all':
    case 'none':
      return q;
    case 'lit': {
      const parts = chunks(q.lit).map((lit): LiteralQuery => ({ op: 'lit', lit }));
      return parts.length === 0 ? q : choose(parts, p);
    }
    case 'or':
      return or(...q.args.map((a) => lookup(a, p)));
    case 'and':
      return choose(
        q.args.flatMap((a) =>
          a.op === 'lit' && chunks(a.lit).length > 0
            ? chunks(a.lit).map((lit): LiteralQuery => ({ op: 'lit', lit }))
            : [lookup(a, p)],
        ),
        p,
      );
  }
}

/**
 * The part of `q` worth looking up in the trigram index, given the sample (see the file header): admits
 * every name `q` admits; `q` itself without a sample.
 */
export function lookupQuery(q: LiteralQuery, names: readonly string[] | undefined): LiteralQuery {
  if (!names) return q;
  const p = prepare(names);
  const key = JSON.stringify(q);
  let l = p.memo.get(key);
  if (!l) {
    l = lookup(q, p);
    if (p.memo.size >= 256) p.memo.clear();
    p.memo.set(key, l);
  }
  return l;
}
