/**
 * Which of some jobs lack a payload a reader asked for: the request while it is unknown (`has_request = 0`),
 * the response of a completed job while unknown (`has_response = 0`). A payload upstream answered as absent
 * is known, not a gap. The local API fetches the gaps from upstream (server/fillPayloads.ts).
 */
import type { Mirror } from './openMirror.ts';
import { prepared } from './prepared.ts';
import type { PayloadWants } from './store.ts';

export type { PayloadWants } from './store.ts';

const GAPS = `SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each(?))
  AND ((? = 1 AND has_request = 0) OR (? = 1 AND status = 'completed' AND has_response = 0))`;

/** The ids among `ids` with a gap, in the order given. */
export function payloadGaps(
  mirror: Pick<Mirror, 'sqlite'>,
  ids: readonly string[],
  want: PayloadWants,
): string[] {
  if (ids.length === 0 || (!want.request && !want.response)) return [];
  const rows = prepared(mirror, GAPS)
    .pluck()
    .all(JSON.stringify(ids), want.request ? 1 : 0, want.response ? 1 : 0) as string[];
  const gaps = new Set(rows);
  return ids.filter((id) => gaps.has(id));
}
