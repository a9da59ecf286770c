/**
 * A PostgreSQL regex (ARE) admitting every folded filename (schema.ts `foldedFilename`) that an RE2
 * `filename_regex` matches — a superset, never the exact answer: RE2 stays the judge (queryJobsPg.ts). It
 * narrows in SQL what the required literals alone cannot, e.g. `img_\d{4}_\d+\.\w+` against `IMG_4821.jpg`
 * names, which hold every literal it requires.
 *
 * Built from ../regexSyntax.ts's conservative reading of the pattern, which already is such a superset at the
 * level of single characters: each atom is the set of folded characters it can match, or any character;
 * anchors and word boundaries are empty; case-insensitivity and flags only ever widen. Written back with
 * every character but a lower-case letter or digit as a `\uXXXX` escape (no ranges, so no collation) and whole-name anchors. Repetition
 * bounds past PostgreSQL's 255 become unbounded (wider). A pattern RE2 does not compile, one the reader does
 * not understand, or one whose expansion would be large (PostgreSQL's compiler rejects big automata) gets
 * undefined: no regex in SQL.
 */
import { RE2JS } from 're2js';
import { parseRegex, type RegexNode, UnsupportedSyntax } from '../regexSyntax.ts';

/** Past this (atoms after expanding bounded repetitions), no regex is sent: its automaton may be too big. */
const MAX_SIZE = 4000;
/** PostgreSQL's largest repetition bound (RE_DUP_MAX). */
const DUP_MAX = 255;

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
      const copies = n.max >= 0 ? Math.min(n.max, DUP_MAX) : Math.min(n.min, DUP_MAX) + 1;
      return size(n.sub) * Math.max(1, copies) + 1;
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
      const min = Math.min(n.min, DUP_MAX);
      const max = n.max < 0 || n.max > DUP_MAX ? '' : String(n.max);
      return `(?:${emit(n.sub)}){${min},${max}}`;
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
