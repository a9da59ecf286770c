/**
 * The PostgreSQL regex sent beside a `filename_regex` (src/mirror/pg/pgRegex.ts) admits every name RE2
 * matches, as PostgreSQL itself evaluates it on the folded name — random patterns over the characters whose
 * case folding is odd, with names sampled from each pattern — and it rejects names the literals alone admit.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supersetRegex } from '../../src/mirror/pg/pgRegex.ts';
import { foldedFilename } from '../../src/mirror/pg/schema.ts';
import { filenameRegexMatcher } from '../../src/retab/jobFields.ts';
import { createTestDatabase, type TestDatabase } from './pgDatabase.ts';

let db: TestDatabase;
let client: pg.Client;
beforeAll(async () => {
  db = await createTestDatabase({ icuLocale: 'en-US' });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** PostgreSQL's verdict on each (name, regex) pair, on the folded name as the index stores it. */
async function admitted(pairs: Array<[string, string]>): Promise<boolean[]> {
  const r = await client.query<{ ok: boolean }>(
    `SELECT ${foldedFilename('n')} ~ re AS ok FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(n, re, i) ORDER BY i`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );
  return r.rows.map((x) => x.ok);
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ATOMS = [
  'a',
  'k',
  'K',
  's',
  'S',
  '\u017f',
  '\u212a',
  '\u0130',
  'i',
  'I',
  '0',
  '_',
  '%',
  '.',
  ' ',
  'é',
  '\n',
];
const ORBIT: Record<string, string[]> = { k: ['k', 'K', '\u212a'], s: ['s', 'S', '\u017f'], i: ['i', 'I'] };
const variant = (c: string, r: () => number): string => {
  const o = ORBIT[c.toLowerCase()] ?? (c === '\u212a' ? ORBIT.k : c === '\u017f' ? ORBIT.s : undefined);
  return o ? (o[Math.floor(r() * o.length)] as string) : r() < 0.5 ? c.toUpperCase() : c.toLowerCase();
};
const escapeRe = (c: string) => (c === '\n' ? '\\n' : /[\\.+*?()|[\]{}^$]/.test(c) ? `\\${c}` : c);

interface Gen {
  re: string;
  sample(r: () => number): string;
}

function gen(r: () => number, depth: number): Gen {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const k = depth > 3 ? 0 : Math.floor(r() * 10);
  if (k <= 3) {
    const c = pick(ATOMS);
    const kind = Math.floor(r() * 8);
    if (kind === 0) return { re: '.', sample: (q) => variant(pick(ATOMS.filter((a) => a !== '\n')), q) };
    if (kind === 1) return { re: '\\d', sample: (q) => String(Math.floor(q() * 10)) };
    if (kind === 2) return { re: '\\w', sample: (q) => pick(['a', 'Z', '5', '_']) + (q() < 0 ? '' : '') };
    if (kind === 3) return { re: `[${escapeRe(c)}x]`, sample: (q) => variant(q() < 0.5 ? c : 'x', q) };
    if (kind === 4) return { re: '[^x]', sample: (q) => variant(pick(['a', 'é', 'K']), q) };
    if (kind === 5) return { re: `\\b${escapeRe(c)}`, sample: (q) => variant(c, q) };
    return { re: escapeRe(c), sample: (q) => variant(c, q) };
  }
  if (k <= 6) {
    const parts = Array.from({ length: 2 + Math.floor(r() * 3) }, () => gen(r, depth + 1));
    return { re: parts.map((p) => p.re).join(''), sample: (q) => parts.map((p) => p.sample(q)).join('') };
  }
  if (k === 7) {
    const [a, b] = [gen(r, depth + 1), gen(r, depth + 1)];
    return { re: `(?:${a.re}|${b.re})`, sample: (q) => (q() < 0.5 ? a : b).sample(q) };
  }
  const sub = gen(r, depth + 1);
  const [op, lo, hi] = pick([
    ['*', 0, 3],
    ['+', 1, 3],
    ['?', 0, 1],
    ['{2}', 2, 2],
    ['{1,3}', 1, 3],
    ['{4,}', 4, 6],
    ['{0,300}', 0, 3],
  ] as const);
  return {
    re: `(${sub.re})${op}${r() < 0.2 ? '?' : ''}`,
    sample: (q) => Array.from({ length: lo + Math.floor(q() * (hi - lo + 1)) }, () => sub.sample(q)).join(''),
  };
}

const ODD_NAMES = ['İstanbul.pdf', 'KELVIN_\u212a.pdf', '\u017ftrange 100%.txt', 'a\nb', 'É_0.PDF', 'x'];

describe('the superset regex sent to PostgreSQL', () => {
  it('admits every name RE2 matches (random patterns and names), and rejects many it does not', async () => {
    const r = prng(2424);
    const pairs: Array<[string, string]> = [];
    const matches: boolean[] = [];
    let translated = 0;
    for (let n = 0; n < 400; n++) {
      const g = gen(r, 0);
      const re = supersetRegex(g.re);
      if (re === undefined) continue;
      translated++;
      const m = filenameRegexMatcher(g.re);
      for (const name of [...Array.from({ length: 6 }, () => g.sample(r)), ...ODD_NAMES]) {
        pairs.push([name, re]);
        matches.push(m(name));
      }
    }
    expect(translated).toBeGreaterThan(350);
    const ok = await admitted(pairs);
    for (let i = 0; i < pairs.length; i++)
      if (matches[i]) expect(ok[i], `${JSON.stringify(pairs[i])} matches in RE2`).toBe(true);
    expect(matches.filter(Boolean).length).toBeGreaterThan(pairs.length / 4);
    expect(ok.filter((x, i) => !x && !matches[i]).length).toBeGreaterThan(pairs.length / 4);
  });

  it('narrows what the required literals cannot, and is left out where it cannot be written', async () => {
    const re = supersetRegex('IMG_\\d{4}_\\d+\\.\\w+') as string;
    expect(
      await admitted([
        ['IMG_2026_00042.PDF', re],
        ['IMG_4821.jpg', re],
        ['img_2026_1.x', re],
      ]),
    ).toEqual([true, false, true]);
    expect(await admitted([['aaa', supersetRegex('a{1,1000}') as string]])).toEqual([true]);
    for (const p of ['[', 'a(b', '(?=x)x', 'a{1000}{1000}']) expect(supersetRegex(p), p).toBeUndefined();
  });
});
