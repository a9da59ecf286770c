/**
 * Which literal substrings a filename must contain to pass `filename_contains` or `filename_regex`, as a
 * boolean query over literals — the store-independent half of the filename index (Russ Cox, "Regular
 * Expression Matching with a Trigram Index", 2012; the same analysis as Google Code Search's `index/regexp.go`).
 * A store turns the query into index lookups (SQLite: FTS5 trigram MATCH; PostgreSQL: `ILIKE '%lit%'` over a
 * pg_trgm index), takes the candidates, and still tests each one exactly (RE2, case-insensitive, anchored).
 *
 * The one rule: a query must hold for every name that matches — it may admit names that do not (the exact
 * test removes them), never miss one. Literals are folded as the index folds names (`foldChar`, `indexedText`)
 * and hold only characters the index can vouch for; anything unsure becomes `all` (no constraint), which
 * means "use no index for this pattern".
 */
import { RE2JS } from 're2js';
import { ALL, and, type LiteralQuery, literalsOf, MIN_LITERAL, NONE, or } from './literalQuery.ts';
import { foldChar, parseRegex, type RegexNode, UnsupportedSyntax } from './regexSyntax.ts';

export { ALL, and, type LiteralQuery, literalsOf, MIN_LITERAL, NONE, or } from './literalQuery.ts';

const MAX_EXACT = 7;
const MAX_SET = 20;
const MAX_LITERAL = 32;
const MAX_QUERY_LITERALS = 64;

/**
 * Where a name starts and ends in the indexed text: a regex must match a whole name, so the literals it
 * starts or ends with can be looked up with this mark attached (`\ninv` admits only names starting with
 * `inv`). A name may contain a newline itself; that only admits more candidates.
 */
export const BOUNDARY = '\n';

/**
 * The text the index stores for a job's filenames: each name between newlines, U+0130 (İ) rewritten to `i`
 * because JavaScript lower-cases it to `i` + U+0307 (so `filename_contains` can find an `i` there) while
 * FTS5 leaves it alone. Every other code point is folded by the index itself. The SQL store builds the same
 * text with `char(10) || replace(group_concat(filename, char(10)), char(304), 'i') || char(10)`.
 */
export const indexedText = (names: readonly string[]): string =>
  `${BOUNDARY}${names.join(BOUNDARY)}${BOUNDARY}`.replaceAll('\u0130', 'i');

/**
 * Does `name` satisfy the query, as the index would judge it? (Tests use it to check soundness: every name
 * that matches must satisfy its query.) Characters the index cannot vouch for never match a literal.
 */
export function admits(q: LiteralQuery, name: string): boolean {
  const folded = Array.from(indexedText([name]), (c) =>
    c === BOUNDARY ? c : (foldChar(c) ?? '\u0000'),
  ).join('');
  const test = (x: LiteralQuery): boolean => {
    switch (x.op) {
      case 'all':
        return true;
      case 'none':
        return false;
      case 'lit':
        return folded.includes(x.lit);
      case 'and':
        return x.args.every(test);
      case 'or':
        return x.args.some(test);
    }
  };
  return test(q);
}

// ---- plain text (filename_contains, and regexes that do not compile)

/** Every name containing these characters (folded; null: one the index cannot vouch for) contains each run of the others. */
function textQuery(chars: Iterable<string | null>): LiteralQuery {
  const runs: LiteralQuery[] = [];
  let run = '';
  const flush = () => {
    if (run.length >= MIN_LITERAL) runs.push({ op: 'lit', lit: run.slice(0, MAX_LITERAL * 4) });
    run = '';
  };
  for (const c of chars) {
    if (c === null) flush();
    else run += c;
  }
  flush();
  return and(...runs);
}

/** `filename_contains`: the needle, lower-cased as the matcher does, split at characters the index cannot fold. */
export function containsQuery(needle: string): LiteralQuery {
  return textQuery(Array.from(needle.toLowerCase(), foldChar));
}

// ---- regexes: Cox's analysis over the parsed pattern

interface Info {
  /** Matches the empty string. */
  emptyable: boolean;
  /** Every string the node matches (folded), when few; null otherwise. */
  exact: Set<string> | null;
  /** When `exact` is null: every match starts with one of these / ends with one of these. */
  prefix: Set<string>;
  suffix: Set<string>;
  /** What any match must satisfy. */
  match: LiteralQuery;
}

const set = (...xs: string[]) => new Set(xs);
const minLen = (s: Set<string>) => (s.size === 0 ? 0 : Math.min(...[...s].map((x) => x.length)));
const cross = (a: Set<string>, b: Set<string>) => set(...[...a].flatMap((x) => [...b].map((y) => x + y)));
const union = (a: Set<string>, b: Set<string>) => set(...a, ...b);

/** AND the OR of the set's strings into `q`, when every one of them is long enough to look up. */
function andSet(q: LiteralQuery, s: Set<string>): LiteralQuery {
  // A very wide OR narrows little and costs a lookup per literal: leave it out (the query only gets weaker).
  if (s.size === 0 || s.size > MAX_SET || minLen(s) < MIN_LITERAL) return q;
  return and(q, or(...[...s].map((lit): LiteralQuery => ({ op: 'lit', lit }))));
}

const anyChar = (): Info => ({ emptyable: false, exact: null, prefix: set(''), suffix: set(''), match: ALL });
const anyMatch = (): Info => ({ emptyable: true, exact: null, prefix: set(''), suffix: set(''), match: ALL });
const emptyString = (): Info => ({
  emptyable: true,
  exact: set(''),
  prefix: set(),
  suffix: set(),
  match: ALL,
});
const noMatch = (): Info => ({ emptyable: false, exact: null, prefix: set(), suffix: set(), match: NONE });

function addExact(info: Info): Info {
  if (info.exact === null) return info;
  return { ...info, match: andSet(info.match, info.exact) };
}

/** Keep a prefix/suffix set small: record it in the match, then cut its strings down. */
function simplifySet(info: Info, which: 'prefix' | 'suffix'): Info {
  let s = info[which];
  const match = andSet(info.match, s);
  for (let n = MIN_LITERAL; n >= 1 && (n === MIN_LITERAL || s.size > MAX_SET); n--) {
    s = set(
      ...[...s].map((x) =>
        x.length >= n ? (which === 'prefix' ? x.slice(0, n - 1) : x.slice(x.length - n + 1)) : x,
      ),
    );
  }
  return { ...info, match, [which]: s };
}

function simplify(info: Info, force: boolean): Info {
  let out = info;
  const ex = out.exact;
  if (
    ex !== null &&
    (ex.size > MAX_EXACT || (force && minLen(ex) >= MIN_LITERAL) || minLen(ex) >= MAX_LITERAL)
  ) {
    out = addExact(out);
    const cut = (x: string, end: boolean) =>
      x.length < MIN_LITERAL ? x : end ? x.slice(x.length - MIN_LITERAL + 1) : x.slice(0, MIN_LITERAL - 1);
    out = {
      ...out,
      exact: null,
      prefix: set(...[...ex].map((x) => cut(x, false))),
      suffix: set(...[...ex].map((x) => cut(x, true))),
    };
  }
  if (out.exact === null) out = simplifySet(simplifySet(out, 'prefix'), 'suffix');
  return out;
}

/** What every match starts / ends with, '' included when it can be empty (the sets alone may not say so). */
const starts = (i: Info) => i.exact ?? (i.emptyable ? union(i.prefix, set('')) : i.prefix);
const ends = (i: Info) => i.exact ?? (i.emptyable ? union(i.suffix, set('')) : i.suffix);

function concat(x: Info, y: Info): Info {
  const xy: Info = {
    emptyable: x.emptyable && y.emptyable,
    exact: null,
    prefix: set(),
    suffix: set(),
    match: and(x.match, y.match),
  };
  if (x.exact !== null && y.exact !== null) xy.exact = cross(x.exact, y.exact);
  else {
    xy.prefix =
      x.exact !== null ? cross(x.exact, starts(y)) : x.emptyable ? union(x.prefix, starts(y)) : x.prefix;
    xy.suffix =
      y.exact !== null ? cross(ends(x), y.exact) : y.emptyable ? union(y.suffix, ends(x)) : y.suffix;
  }
  // Strings spanning the boundary: some suffix of x followed by some prefix of y is in every match.
  if (x.exact === null && y.exact === null) {
    const [xs, yp] = [ends(x), starts(y)];
    if (xs.size <= MAX_SET && yp.size <= MAX_SET && minLen(xs) + minLen(yp) >= MIN_LITERAL) {
      xy.match = andSet(xy.match, cross(xs, yp));
    }
  }
  return simplify(xy, false);
}

function alternate(x: Info, y: Info): Info {
  const xy: Info = {
    emptyable: x.emptyable || y.emptyable,
    exact: null,
    prefix: set(),
    suffix: set(),
    match: ALL,
  };
  let [a, b] = [x, y];
  if (a.exact !== null && b.exact !== null) xy.exact = union(a.exact, b.exact);
  else if (a.exact !== null) {
    xy.prefix = union(a.exact, starts(b));
    xy.suffix = union(a.exact, ends(b));
    a = addExact(a);
  } else if (b.exact !== null) {
    xy.prefix = union(starts(a), b.exact);
    xy.suffix = union(ends(a), b.exact);
    b = addExact(b);
  } else {
    xy.prefix = union(starts(a), starts(b));
    xy.suffix = union(ends(a), ends(b));
  }
  xy.match = or(a.match, b.match);
  return simplify(xy, false);
}

function analyze(node: RegexNode): Info {
  switch (node.t) {
    case 'empty':
      return emptyString();
    case 'chars':
      if (node.set === null) return anyChar();
      if (node.set.length === 0) return noMatch();
      return simplify(
        { emptyable: false, exact: set(...node.set), prefix: set(), suffix: set(), match: ALL },
        false,
      );
    case 'cat':
      return node.subs.reduce((info, sub) => concat(info, analyze(sub)), emptyString());
    case 'alt':
      return node.subs.map(analyze).reduce((a, b) => alternate(a, b));
    case 'rep': {
      const { min, max } = node;
      if (max === 0) return emptyString();
      if (min === 0) return max === 1 ? alternate(analyze(node.sub), emptyString()) : anyMatch();
      // x{n,m}, n ≥ 1: x^n when n = m ≤ 3; otherwise x^(k-1) x+ with k = min(n, 3), a superset of what it
      // matches, so every literal it requires is required.
      const sub = analyze(node.sub);
      const k = Math.min(min, 3);
      let info = emptyString();
      if (max === min && min <= 3) {
        for (let c = 0; c < min; c++) info = concat(info, sub);
        return info;
      }
      for (let c = 0; c < k - 1; c++) info = concat(info, sub);
      // x+: at least one x, so prefixes and suffixes stay; an exact x is no longer exact.
      const plus =
        sub.exact === null
          ? sub
          : simplify({ ...sub, exact: null, prefix: sub.exact, suffix: sub.exact }, false);
      return concat(info, plus);
    }
  }
}

/** Bound the work a store does for one query: past this many literals, use no index. */
const bounded = (q: LiteralQuery): LiteralQuery => (literalsOf(q).length > MAX_QUERY_LITERALS ? ALL : q);

/**
 * `filename_regex`: what every matching name contains. A pattern RE2 does not compile is plain text (as the
 * matcher treats it); a pattern this reader does not fully understand gets `all` (no index).
 */
export function regexQuery(pattern: string): LiteralQuery {
  try {
    RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch {
    return bounded(textQuery([BOUNDARY, ...Array.from(pattern, foldChar), BOUNDARY]));
  }
  let tree: RegexNode;
  try {
    tree = parseRegex(pattern);
  } catch (err) {
    if (err instanceof UnsupportedSyntax) return ALL;
    throw err;
  }
  // The whole name must match: what it starts and ends with sits next to a boundary in the indexed text.
  const edge: RegexNode = { t: 'chars', set: [BOUNDARY] };
  const subs = tree.t === 'cat' ? [edge, ...tree.subs, edge] : [edge, tree, edge];
  const info = simplify(analyze({ t: 'cat', subs }), true);
  return bounded(addExact(info).match);
}
