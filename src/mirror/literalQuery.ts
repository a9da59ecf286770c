/**
 * Boolean queries over literals, with the simplifications that keep them sound (a query may only ever admit
 * more names, never fewer): the language filenameLiterals.ts speaks and the stores translate.
 */

/** A boolean query over literals (folded, ≥ 3 characters): a name is a candidate when it holds. */
export type LiteralQuery =
  | { op: 'all' }
  | { op: 'none' }
  | { op: 'lit'; lit: string }
  | { op: 'and' | 'or'; args: LiteralQuery[] };

export const ALL: LiteralQuery = { op: 'all' };
export const NONE: LiteralQuery = { op: 'none' };
/** Literals shorter than this cannot be looked up in a trigram index. */
export const MIN_LITERAL = 3;
/**
 * Arguments of one AND / OR at most: past it an OR becomes `all` and an AND keeps its first ones (both only
 * admit more names). It bounds the work on hostile patterns (`n0x|n1x|…` with thousands of alternatives),
 * whose simplification is quadratic in the arguments; a store would drop such a query anyway (too many literals).
 */
const MAX_ARGS = 128;

const isLit = (q: LiteralQuery): q is { op: 'lit'; lit: string } => q.op === 'lit';

export function and(...qs: LiteralQuery[]): LiteralQuery {
  const args: LiteralQuery[] = [];
  for (const q of qs) {
    if (q.op === 'none') return NONE;
    if (q.op === 'all') continue;
    if (q.op === 'and') args.push(...q.args);
    else args.push(q);
  }
  if (args.length > MAX_ARGS) args.length = MAX_ARGS;
  // A literal inside a longer required literal is implied by it.
  const lits = args.filter(isLit).map((q) => q.lit);
  const kept = args.filter(
    (q, i) =>
      !isLit(q) ||
      (!lits.some((l) => l !== q.lit && l.includes(q.lit)) &&
        args.findIndex((o) => isLit(o) && o.lit === q.lit) === i),
  );
  if (kept.length === 0) return ALL;
  return kept.length === 1 ? (kept[0] as LiteralQuery) : { op: 'and', args: kept };
}

export function or(...qs: LiteralQuery[]): LiteralQuery {
  const args: LiteralQuery[] = [];
  for (const q of qs) {
    if (q.op === 'all') return ALL;
    if (q.op === 'none') continue;
    if (q.op === 'or') args.push(...q.args);
    else args.push(q);
  }
  if (args.length > MAX_ARGS) return ALL;
  // A literal containing another alternative literal adds nothing: the shorter one already admits it.
  const lits = args.filter(isLit).map((q) => q.lit);
  const kept = args.filter(
    (q, i) =>
      !isLit(q) ||
      (!lits.some((l) => l !== q.lit && q.lit.includes(l)) &&
        args.findIndex((o) => isLit(o) && o.lit === q.lit) === i),
  );
  if (kept.length === 0) return NONE;
  return kept.length === 1 ? (kept[0] as LiteralQuery) : { op: 'or', args: kept };
}

/** The literals of a query (for bounding its size and for stores that look each one up). */
export function literalsOf(q: LiteralQuery): string[] {
  if (q.op === 'lit') return [q.lit];
  if (q.op === 'and' || q.op === 'or') return q.args.flatMap(literalsOf);
  return [];
}
