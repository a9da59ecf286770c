/** The upstream's error shapes (DESIGN §1), so Retab clients read the local API's errors as they read Retab's. */

export interface ErrorBody {
  detail: { code: string; message: string; details: Record<string, unknown> };
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { detail: { code, message, details } };
}

/** `GET /v1/jobs/{id}` for an id the mirror does not hold. */
export function jobNotFound(id: string): ErrorBody {
  return errorBody('not_found', `No job with id ${id}.`, { id });
}

/** A raw query string as a record; repeated keys give arrays (`document_type=pdf&document_type=png`). */
export function rawQuery(url: string): Record<string, string | string[]> {
  const q = url.indexOf('?');
  const out: Record<string, string | string[]> = {};
  if (q < 0) return out;
  for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
