/**
 * A PostgreSQL regex (ARE) admitting every folded filename (schema.ts `foldedFilename`) that an RE2
 * `filename_regex` matches — a superset, never the exact answer: RE2 stays the judge (queryJobsPg.ts). It
 * narrows in SQL what the required literals alone cannot, e.g. `img_\d{4}_\d+\.\w+` against `IMG_4821.jpg`
 * names, which hold every literal it requires.
 *
 * Built from ../regexSyntax.ts's conservative reading of the pattern, which already is such a superset at the
 * level of single characters: each atom is the set of folded characters it can match, or any character;
 * anchors and word boundaries are empty; case-insensitivity and flags only ever widen. Written back with
 * every character but a lower-case letter or digit as a `\uXXXX` escape (no ranges, so no collation) and whole-name anchors.
 * Only small repetition counts are kept (`\d{4}`); larger ones become `*` or `+` (wider): PostgreSQL expands
 * `{m,n}` into copies, and counted classes such as `[a-z]{0,255}` or nested counts cost it milliseconds per name
 * where RE2 spends microseconds (a 31-character pattern took 27 s on 20k names). A pattern RE2 does not compile, one the reader does
 * not understand, or one whose expansion would be large (PostgreSQL's compiler rejects big automata) gets
 * undefined: no regex in SQL.
 */
import { RE2JS } from 're2js';
import { parseRegex, type RegexNode, UnsupportedSyntax } from '../regexSyntax.ts';

/** Past this (atoms after expanding bounded repetitions), no regex is sent: its automaton may be too big. */
const MAX_SIZE = 4000;
/** The largest repetition count written as such; past it the count is dropped (`*` / `+`). */
const KEPT_COUNT = 16;

/** Whether a repetition keeps its counts (`{m,n}`) or is written `*` / `+` / `?`. */
const keepsCount = (n: { min: number; max: number }): boolean => n.max >= 0 && n.max <= KEPT_COUNT;

class Skip extends Error {}

const esc = (c: string): string =>
  /^[a-z0-9]$/.test(c) ? c : `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`;

function size(n: RegexNode): number {
  switch (n.t) {
    case 'chars':
    case 'empty':
      return 1;
    case 'cat':
    case 'alt':
      return n.subs.reduce((a, s) => a + size(s), 1);
    case 'rep': {
      return size(n.sub) * (keepsCount(n) ? Math.max(1, n.max) : 1) + 1;
    }
  }
}

function emit(n: RegexNode): string {
  switch (n.t) {
    case 'chars':
      if (n.set === null) return '.';
      if (n.set.length === 0) throw new Skip();
      if (n.set.length === 1) return esc(n.set[0] as string);
      if (n.set.some((c) => (c.codePointAt(0) as number) > 0xffff)) throw new Skip();
      return `[${n.set.map(esc).join('')}]`;
    case 'empty':
      return '(?:)';
    case 'cat':
      return n.subs.map((s) => (s.t === 'alt' ? `(?:${emit(s)})` : emit(s))).join('');
    case 'alt':
      return n.subs.map((s) => `(?:${emit(s)})`).join('|');
    case 'rep': {
      const sub = `(?:${emit(n.sub)})`;
      if (keepsCount(n)) return `${sub}{${n.min},${n.max}}`;
      return n.min === 0 ? `${sub}*` : `${sub}+`;
    }
  }
}

/** The ARE for `~` on the folded name, or undefined when the pattern gets none (see the file header). */
export function supersetRegex(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch {
    return undefined;
  }
  try {
    const tree = parseRegex(pattern);
    if (size(tree) > MAX_SIZE) return undefined;
    return `^(?:${emit(tree)})$`;
  } catch (err) {
    if (err instanceof UnsupportedSyntax || err instanceof Skip) return undefined;
    throw err;
  }
}
