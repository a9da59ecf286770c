/**
 * The literals a filename filter requires (the store-independent half of the filename index). The rule that
 * matters: a name that matches must satisfy its filter's query, whatever the pattern, case or alphabet —
 * checked on random patterns and names, and on the folding facts the rule rests on.
 */
import Database from 'better-sqlite3';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import {
  admits,
  containsQuery,
  indexedText,
  type LiteralQuery,
  literalsOf,
  regexQuery,
} from '../../src/mirror/filenameLiterals.ts';
import { foldChar } from '../../src/mirror/regexSyntax.ts';
import { filenameContainsMatcher, filenameRegexMatcher } from '../../src/retab/jobFields.ts';
import { prng } from '../query/helpers.ts';

const lit = (s: string): LiteralQuery => ({ op: 'lit', lit: s });

describe('the folding the index relies on', () => {
  it('only printable ASCII, U+017F, U+212A and U+0130 can stand for a printable ASCII character', () => {
    const anyAscii = RE2JS.compile('[ -~]', RE2JS.CASE_INSENSITIVE);
    const found: number[] = [];
    for (let u = 0x80; u <= 0x10ffff; u++) {
      if (u >= 0xd800 && u <= 0xdfff) continue;
      const c = String.fromCodePoint(u);
      // RE2 case-insensitive matching (filename_regex), or JavaScript lower-casing (filename_contains).
      if (anyAscii.matches(c) || /[ -~]/.test(c.toLowerCase())) found.push(u);
    }
    expect(found).toEqual([0x130, 0x17f, 0x212a]);
  });

  it('FTS5 trigram folds each of them to the character foldChar says', () => {
    const db = new Database(':memory:');
    db.exec(
      "CREATE VIRTUAL TABLE t USING fts5(names, content='', contentless_delete=1, detail=none, tokenize='trigram case_sensitive 0')",
    );
    const chars = [
      ...Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)),
      '\u017f',
      '\u212a',
      '\u0130',
    ];
    const insert = db.prepare('INSERT INTO t(rowid, names) VALUES (?, ?)');
    for (const [i, c] of chars.entries()) insert.run(i + 1, indexedText([`#${c}#`]));
    const find = db.prepare('SELECT rowid FROM t WHERE t MATCH ?').pluck();
    for (const [i, c] of chars.entries()) {
      const folded = c === '\u0130' ? 'i' : foldChar(c);
      expect(folded).not.toBeNull();
      const hits = find.all(`"#${(folded as string).replaceAll('"', '""')}#"`) as number[];
      expect(hits, `U+${c.codePointAt(0)?.toString(16)}`).toContain(i + 1);
    }
    db.close();
  });
});

describe('required literals', () => {
  it('filename_contains: the needle, lower-cased, cut at characters the index cannot vouch for', () => {
    expect(containsQuery('_12345.')).toEqual(lit('_12345.'));
    expect(containsQuery('INVOICE')).toEqual(lit('invoice'));
    expect(containsQuery('RÉSUMÉ')).toEqual(lit('sum'));
    expect(containsQuery('%_')).toEqual({ op: 'all' }); // too short: no index
    expect(containsQuery('Ab"c d')).toEqual(lit('ab"c d'));
  });

  it('filename_regex: literals every match contains, alternatives as OR, anchored at the name ends', () => {
    // `\n` marks a name's start and end in the indexed text: the pattern must match the whole name.
    expect(literalsOf(regexQuery('.*_12345\\.pdf'))).toEqual(
      expect.arrayContaining(['_12', '123', '234', '345', '45.', 'df\n']),
    );
    expect(regexQuery('bank_\\d{4}_\\d+\\.\\w+')).toEqual({
      op: 'or',
      args: Array.from({ length: 10 }, (_, d) => lit(`\nbank_${d}`)),
    });
    expect(regexQuery('abc(def|ghi)jkl')).toEqual({
      op: 'or',
      args: [lit('\nabcdefjkl\n'), lit('\nabcghijkl\n')],
    });
    expect(regexQuery('Scan.*')).toEqual(lit('\nscan'));
    expect(regexQuery('\\Qa.b*c\\E')).toEqual(lit('\na.b*c\n'));
    expect(regexQuery('[Kk]elvin')).toEqual(lit('\nkelvin\n'));
    expect(regexQuery('x{2}y')).toEqual(lit('\nxxy\n'));
    expect(regexQuery('a+b')).toEqual(lit('ab\n'));
  });

  it('no literal, or syntax the reader does not know: no index; a pattern that does not compile is text', () => {
    for (const p of ['.*', '.*a.*', '(a+)+$', '\\p{Greek}+x', '[[:alpha:]]+']) {
      expect(regexQuery(p), p).toEqual({ op: 'all' });
    }
    expect(regexQuery('(?=abc)abcd')).toEqual(lit('\n(?=abc)abcd\n')); // lookahead: RE2 rejects it
    expect(regexQuery('report(')).toEqual(lit('\nreport(\n'));
  });

  it('thousands of alternatives: analysed in well under a second, still sound', () => {
    const pattern = Array.from({ length: 3000 }, (_, i) => `n${i}x`).join('|');
    const t = performance.now();
    const q = regexQuery(pattern);
    expect(performance.now() - t).toBeLessThan(2000);
    for (const name of ['n0x', 'N1234X', 'n2999x']) expect(admits(q, name), name).toBe(true);
  });

  it('a repetition after \\Q…\\E or a flags group applies to the one operand before it, as in RE2', () => {
    // RE2 pushes each quoted character as its own operand, and `(?i)` pushes none.
    for (const [pattern, name] of [
      ['x\\Qab\\E?y', 'xay'],
      ['xx\\Qabc\\E{0}yy', 'xxabyy'],
      ['foo\\Qbar\\E+', 'foobarrr'],
      ['.*_\\Q2026\\E*\\.pdf', 'a_202.pdf'],
      ['xa\\Q\\E*y', 'xy'],
      ['xab(?i)*cy', 'xacy'],
      ['xab(?i)?cy', 'xacy'],
      ['invoice(?s){0}s\\.pdf', 'invoics.pdf'],
    ] as const) {
      expect(filenameRegexMatcher(pattern)(name), pattern).toBe(true);
      expect(admits(regexQuery(pattern), name), `${pattern} admits ${name}`).toBe(true);
    }
  });
});

// ---- random patterns, with names sampled from them

const ATOMS = [
  'a',
  'b',
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
  '1',
  '_',
  '%',
  '"',
  ' ',
  'é',
];
const ORBIT: Record<string, string[]> = {
  k: ['k', 'K', '\u212a'],
  s: ['s', 'S', '\u017f'],
  i: ['i', 'I'],
};

interface Gen {
  re: string;
  sample(r: () => number): string;
}

function variant(c: string, r: () => number): string {
  const o = ORBIT[c.toLowerCase()] ?? (c === '\u212a' ? ORBIT.k : c === '\u017f' ? ORBIT.s : undefined);
  if (o) return o[Math.floor(r() * o.length)] as string;
  return r() < 0.5 ? c.toUpperCase() : c.toLowerCase();
}

const escapeRe = (c: string) => (/[\\.+*?()|[\]{}^$]/.test(c) ? `\\${c}` : c);

function gen(r: () => number, depth: number): Gen {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const k = depth > 3 ? 0 : Math.floor(r() * 10);
  if (k <= 3) {
    const c = pick(ATOMS);
    const kind = Math.floor(r() * 6);
    if (kind === 0) return { re: '.', sample: (q) => variant(pick(ATOMS), q) };
    if (kind === 1) return { re: '\\d', sample: (q) => String(Math.floor(q() * 10)) };
    if (kind === 2) return { re: `[${escapeRe(c)}x]`, sample: (q) => variant(q() < 0.5 ? c : 'x', q) };
    if (kind === 3) return { re: `\\Q${c}.\\E`, sample: (q) => `${variant(c, q)}.` };
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
  ] as const);
  const body = `(${sub.re})${op}`;
  return {
    re: r() < 0.2 ? `${body}?` : body,
    sample: (q) => Array.from({ length: lo + Math.floor(q() * (hi - lo + 1)) }, () => sub.sample(q)).join(''),
  };
}

describe('soundness on random input', () => {
  it('every name a random pattern matches satisfies the pattern query', () => {
    const r = prng(24);
    let matched = 0;
    let narrowed = 0;
    for (let n = 0; n < 800; n++) {
      const g = gen(r, 0);
      const pattern = r() < 0.1 ? `.*${g.re}.*` : g.re;
      const q = regexQuery(pattern);
      if (q.op !== 'all') narrowed++;
      const matches = filenameRegexMatcher(pattern);
      for (let s = 0; s < 8; s++) {
        const name = pattern.startsWith('.*') ? `x${g.sample(r)}y` : g.sample(r);
        if (!matches(name)) continue;
        matched++;
        if (!admits(q, name))
          expect.fail(
            `pattern ${JSON.stringify(pattern)} matches ${JSON.stringify(name)} but its query ${JSON.stringify(q)} does not admit it`,
          );
      }
    }
    expect(matched).toBeGreaterThan(1500);
    expect(narrowed).toBeGreaterThan(150);
  });

  it('every name containing a random needle satisfies the needle query', () => {
    const r = prng(2024);
    let matched = 0;
    for (let n = 0; n < 3000; n++) {
      const len = 1 + Math.floor(r() * 7);
      const needle = Array.from({ length: len }, () => ATOMS[Math.floor(r() * ATOMS.length)]).join('');
      const q = containsQuery(needle);
      const contains = filenameContainsMatcher(needle);
      for (let s = 0; s < 4; s++) {
        const name = `${variant('a', r)}${Array.from(needle, (c) => variant(c, r)).join('')}.pdf`;
        if (!contains(name)) continue;
        matched++;
        if (!admits(q, name))
          expect.fail(`${JSON.stringify(needle)} in ${JSON.stringify(name)}: ${JSON.stringify(q)}`);
      }
    }
    expect(matched).toBeGreaterThan(3000);
  });
});
