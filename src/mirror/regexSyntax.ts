/**
 * A conservative reader of RE2 syntax (https://github.com/google/re2/wiki/Syntax) into the few shapes the
 * filename index needs: which single characters an atom can match, concatenation, alternation, repetition,
 * and zero-width assertions. It exists because re2js does not export its parser.
 *
 * Conservative means: a construct it does not fully understand throws `UnsupportedSyntax`, and the caller
 * then uses no index for the pattern (every name stays a candidate). It only ever reads patterns that RE2
 * itself compiled, so it never has to decide what an invalid pattern means. Characters are folded as the
 * index folds them (`foldChar`); a character the index cannot vouch for becomes "some character" (`null`).
 */

/** One parsed node. `chars.set`: the folded characters the atom can match, `null` when unknown/too many. */
export type RegexNode =
  | { t: 'chars'; set: string[] | null }
  | { t: 'empty' }
  | { t: 'cat'; subs: RegexNode[] }
  | { t: 'alt'; subs: RegexNode[] }
  | { t: 'rep'; sub: RegexNode; min: number; max: number };

/** Operands an atom contributes one by one (`\\Q…\\E`), or none (`(?i)`): parseCat splices them in. */
interface Splice {
  t: 'splice';
  subs: RegexNode[];
}

export class UnsupportedSyntax extends Error {
  override name = 'UnsupportedSyntax';
}

/**
 * The character the filename index stores for `c` (one code point), or null when the index cannot vouch for
 * it. Printable ASCII is lower-cased; U+212A (Kelvin sign) and U+017F (long s) are the only other code points
 * that match an ASCII character case-insensitively in RE2, and SQLite's FTS5 trigram tokenizer folds them to
 * `k` and `s` (both checked over every code point in test/mirror/filenameLiterals.test.ts).
 */
export function foldChar(c: string): string | null {
  const code = c.codePointAt(0) ?? -1;
  if (code >= 0x20 && code <= 0x7e && c.length === 1) return c.toLowerCase();
  if (code === 0x212a) return 'k';
  if (code === 0x17f) return 's';
  return null;
}

const DIGITS = '0123456789'.split('');
/** Classes larger than this are "some character": their members would not narrow the candidates. */
const MAX_CLASS = 64;
const PUNCT = /^[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/;

const single = (c: string): RegexNode => ({
  t: 'chars',
  set: foldChar(c) === null ? null : [foldChar(c) as string],
});
const unknown: RegexNode = { t: 'chars', set: null };

/** Parse an RE2 pattern that RE2 compiled. @throws UnsupportedSyntax on anything outside the known subset. */
export function parseRegex(pattern: string): RegexNode {
  const cps = Array.from(pattern);
  let i = 0;
  const peek = (k = 0): string | undefined => cps[i + k];
  const fail = (what: string): never => {
    throw new UnsupportedSyntax(`${what} at ${i}`);
  };

  function hexEscape(): string {
    // after `\x`: `{hhhh}` or two hex digits
    let hex = '';
    if (peek() === '{') {
      i++;
      while (peek() !== undefined && peek() !== '}') hex += cps[i++];
      if (peek() !== '}') fail('unterminated \\x{');
      i++;
    } else {
      hex = `${peek() ?? ''}${peek(1) ?? ''}`;
      i += 2;
    }
    if (!/^[0-9a-fA-F]{1,6}$/.test(hex)) fail('bad hex escape');
    const code = Number.parseInt(hex, 16);
    if (code > 0x10ffff) fail('bad code point');
    return String.fromCodePoint(code);
  }

  function skipUnicodeClass(): void {
    // after `\p` or `\P`: one letter or `{Name}`
    if (peek() === '{') {
      while (peek() !== undefined && peek() !== '}') i++;
      if (peek() !== '}') fail('unterminated \\p{');
      i++;
    } else if (peek() !== undefined && /^[A-Za-z]$/.test(peek() as string)) i++;
    else fail('bad \\p');
  }

  /** A class member escape: a literal code point, or null for a class escape (\d, \w, \p…). */
  function classEscape(): { lit: string } | { cls: string[] | null } {
    const e = cps[i++];
    if (e === undefined) return fail('trailing backslash');
    if (e === 'd') return { cls: DIGITS };
    if ('DsSwW'.includes(e)) return { cls: null };
    if (e === 'p' || e === 'P') {
      skipUnicodeClass();
      return { cls: null };
    }
    if (e === 'x') return { lit: hexEscape() };
    if ('aftnrv'.includes(e)) return { cls: null }; // control characters: never in the index
    if (PUNCT.test(e)) return { lit: e };
    return fail(`escape \\${e}`);
  }

  function parseClass(): RegexNode {
    // after `[`
    let negated = false;
    if (peek() === '^') {
      negated = true;
      i++;
    }
    const ranges: [number, number][] = [];
    let known = true;
    let first = true;
    for (;;) {
      const c = peek();
      if (c === undefined) return fail('unterminated class');
      if (c === ']' && !first) {
        i++;
        break;
      }
      first = false;
      if (c === '[' && peek(1) === ':') {
        const end = cps.indexOf(']', i);
        if (end < 0 || cps[end - 1] !== ':') fail('bad POSIX class');
        i = end + 1;
        known = false;
        continue;
      }
      let lo: string;
      i++;
      if (c === '\\') {
        const e = classEscape();
        if ('cls' in e) {
          if (e.cls === null) known = false;
          else for (const d of e.cls) ranges.push([d.codePointAt(0) as number, d.codePointAt(0) as number]);
          continue;
        }
        lo = e.lit;
      } else lo = c;
      if (peek() === '-' && peek(1) !== undefined && peek(1) !== ']') {
        i++;
        let hi = cps[i++] as string;
        if (hi === '\\') {
          const e = classEscape();
          if ('cls' in e) return fail('class escape as a range end');
          hi = e.lit;
        } else if (hi === '[') fail('bracket as a range end');
        ranges.push([lo.codePointAt(0) as number, hi.codePointAt(0) as number]);
      } else ranges.push([lo.codePointAt(0) as number, lo.codePointAt(0) as number]);
    }
    if (negated || !known) return unknown;
    let size = 0;
    for (const [lo, hi] of ranges) size += Math.max(0, hi - lo + 1);
    if (size > MAX_CLASS) return unknown;
    const set = new Set<string>();
    for (const [lo, hi] of ranges) {
      for (let code = lo; code <= hi; code++) {
        const f = foldChar(String.fromCodePoint(code));
        if (f === null) return unknown;
        set.add(f);
      }
    }
    return { t: 'chars', set: [...set] };
  }

  function parseEscape(): RegexNode | Splice {
    // after `\`
    const e = peek();
    if (e === undefined) return fail('trailing backslash');
    if (e === 'b' || e === 'B' || e === 'A' || e === 'z') {
      i++;
      return { t: 'empty' };
    }
    if (e === 'Q') {
      i++;
      const subs: RegexNode[] = [];
      while (peek() !== undefined && !(peek() === '\\' && peek(1) === 'E'))
        subs.push(single(cps[i++] as string));
      if (peek() === '\\') i += 2;
      // Each quoted character is its own operand: in `\Qab\E?` the `?` applies to `b` alone.
      return { t: 'splice', subs };
    }
    const m = classEscape();
    return 'lit' in m ? single(m.lit) : { t: 'chars', set: m.cls };
  }

  function parseGroup(): RegexNode | Splice {
    // after `(`
    if (peek() === '?') {
      i++;
      if (peek() === 'P' || peek() === '<') {
        if (peek() === 'P') i++;
        if (peek() !== '<') fail('bad group');
        i++;
        while (peek() !== undefined && /^[A-Za-z0-9_]$/.test(peek() as string)) i++;
        if (peek() !== '>') fail('bad group name');
        i++;
      } else {
        // flags: (?flags) or (?flags:re); i, m, s, U never change which literals a match must contain
        while (peek() !== undefined && /^[imsU-]$/.test(peek() as string)) i++;
        if (peek() === ')') {
          i++;
          // No operand: in `ab(?i)*` the `*` applies to `b`.
          return { t: 'splice', subs: [] };
        }
        if (peek() !== ':') fail('bad group flags');
        i++;
      }
    }
    const inner = parseAlt();
    if (peek() !== ')') fail('unclosed group');
    i++;
    return inner;
  }

  function parseAtom(): RegexNode | Splice {
    const c = cps[i++] as string;
    switch (c) {
      case '(':
        return parseGroup();
      case '[':
        return parseClass();
      case '.':
        return unknown;
      case '^':
      case '$':
        return { t: 'empty' };
      case '\\':
        return parseEscape();
      case '*':
      case '+':
      case '?':
      case '{':
      case ']':
      case '}':
        return fail(`unexpected ${c}`);
      default:
        return single(c);
    }
  }

  function parseRepeat(sub: RegexNode): RegexNode {
    for (;;) {
      const c = peek();
      let min: number;
      let max: number;
      if (c === '*') [min, max, i] = [0, -1, i + 1];
      else if (c === '+') [min, max, i] = [1, -1, i + 1];
      else if (c === '?') [min, max, i] = [0, 1, i + 1];
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(cps.slice(i, i + 16).join(''));
        if (!m) return fail('bad repeat');
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
        i += m[0].length;
      } else return sub;
      if (peek() === '?') i++; // non-greedy: same strings
      sub = { t: 'rep', sub, min, max };
    }
  }

  function parseCat(): RegexNode {
    const subs: RegexNode[] = [];
    while (peek() !== undefined && peek() !== '|' && peek() !== ')') {
      const atom = parseAtom();
      if (atom.t !== 'splice') {
        subs.push(parseRepeat(atom));
        continue;
      }
      // Operands pushed one by one (\Q…\E) or none at all (flags): a repetition that follows applies to
      // the last operand before it, as in RE2's parser.
      subs.push(...atom.subs);
      if (peek() !== undefined && '*+?{'.includes(peek() as string)) {
        const last = subs.pop();
        if (last === undefined) fail('repetition without an operand');
        subs.push(parseRepeat(last as RegexNode));
      }
    }
    return { t: 'cat', subs };
  }

  function parseAlt(): RegexNode {
    const subs = [parseCat()];
    while (peek() === '|') {
      i++;
      subs.push(parseCat());
    }
    return subs.length === 1 ? (subs[0] as RegexNode) : { t: 'alt', subs };
  }

  const tree = parseAlt();
  if (i < cps.length) fail('unbalanced )');
  return tree;
}
