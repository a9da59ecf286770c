/**
 * Building a `GET /v1/jobs` body in the envelope style a server speaks. The simulator and the local API both
 * answer with `both` by default (the original fields and `list_metadata` together), so every Retab client
 * version reads them: the ones before May 2026 follow `has_more`/`last_id`, the later ones `list_metadata.after`
 * (retab-dev/retab e66c97c6, `clients/python/retab/types/pagination.py`). The simulator can speak one style
 * alone, to test a client against each.
 */
import type { Job, JobList, ListMetadata } from './schemas.ts';

export const ENVELOPE_STYLES = ['both', 'legacy', 'current'] as const;
export type EnvelopeStyle = (typeof ENVELOPE_STYLES)[number];

export interface PageEnds {
  /** Matches lie beyond the page in the direction of travel. */
  hasMore: boolean;
  /** Matches lie before the page's start, against the direction of travel. */
  hasBehind: boolean;
  /** The call walked backward (`before=`). */
  backward: boolean;
}

/**
 * `list_metadata` of a page: `after` = its last id when matches follow it in listing order (the next page's
 * cursor), `before` = its first id when matches precede it; null otherwise, and both null for an empty page.
 */
export function listMetadata(data: readonly Job[], ends: PageEnds): ListMetadata {
  const first = data[0]?.id ?? null;
  const last = data[data.length - 1]?.id ?? null;
  const followed = ends.backward ? ends.hasBehind : ends.hasMore;
  const preceded = ends.backward ? ends.hasMore : ends.hasBehind;
  return { before: preceded ? first : null, after: followed ? last : null };
}

/** The superset body (`JobList`): every field of both envelopes. */
export function supersetList(data: Job[], ends: PageEnds): JobList {
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: ends.hasMore,
    list_metadata: listMetadata(data, ends),
  };
}

/** The body in one style: `both` (the superset), `legacy` (original fields only) or `current`. */
export function listBody(data: Job[], ends: PageEnds, style: EnvelopeStyle): Record<string, unknown> {
  const full = supersetList(data, ends);
  if (style === 'both') return { ...full };
  if (style === 'current') return { data: full.data, list_metadata: full.list_metadata };
  const { list_metadata: _omit, ...legacy } = full;
  return legacy;
}
