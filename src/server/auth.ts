/**
 * Optional bearer token for the local API. Both sides are hashed before `timingSafeEqual` so the comparison
 * takes the same time whatever the length or content of the guess.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The token a request presents: `Api-Key: <t>` or `Authorization: Bearer <t>`. */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = headers['api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** A checker for one configured token (constant-time). */
export function tokenChecker(token: string): (presented: string | undefined) => boolean {
  const expected = digest(token);
  return (presented) => presented !== undefined && timingSafeEqual(digest(presented), expected);
}
