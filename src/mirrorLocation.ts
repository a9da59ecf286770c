/**
 * What `MIRROR_DB` names: an SQLite file (a path, or `:memory:`) or a PostgreSQL database (a `postgres://`
 * or `postgresql://` URL, the two schemes libpq and node-postgres accept). Anything that looks like a URL
 * with another scheme is refused rather than taken for a file name: `postgress://host/db` would otherwise
 * silently create an SQLite file in a folder called `postgress:` (the CLI exits 2 on this error).
 */
import { distance } from 'fastest-levenshtein';
import { maskCredentials, maskCredentialsInText } from './credentials.ts';

export type MirrorLocation =
  | { kind: 'sqlite' /** As given (relative paths resolve against the working directory). */; path: string }
  | {
      kind: 'postgres' /** As given, credentials included: never print it (see `masked`). */;
      url: string;
      masked: string;
    };

export class MirrorLocationError extends Error {
  override name = 'MirrorLocationError';
}

const PG_SCHEMES = ['postgres', 'postgresql'];
/** A URL scheme: at least two characters, so a Windows drive (`C:\mirror.db`) stays a path. */
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

/**
 * Classify a `MIRROR_DB` value. Throws MirrorLocationError (one line, credentials masked) for an empty value,
 * a URL whose scheme is not postgres/postgresql (`postgress://`, `mysql://`, `sqlite://`, `file://`), a
 * scheme that is a typo of postgres even without `//` (`postgres:host/db`, `postgre://`), and a postgres URL
 * that does not parse or names no host.
 */
export function parseMirrorLocation(value: string): MirrorLocation {
  const v = value.trim();
  if (v === '') throw new MirrorLocationError('MIRROR_DB is empty; give a file path or a postgres:// URL');
  // A URL that parses keeps its user name visible; text that does not is masked conservatively.
  const shown = URL.canParse(v) ? maskCredentials(v) : maskCredentialsInText(v);
  const m = SCHEME.exec(v);
  if (!m) return { kind: 'sqlite', path: v };
  const scheme = (m[1] as string).toLowerCase();
  const slashes = v.slice(m[0].length).startsWith('//');
  if (PG_SCHEMES.includes(scheme)) {
    if (!slashes)
      throw new MirrorLocationError(
        `MIRROR_DB=${shown} is not a valid PostgreSQL URL; write ${scheme}://user:password@host:port/database`,
      );
    return { kind: 'postgres', url: v, masked: checkPgUrl(v, shown) };
  }
  const nearPg = PG_SCHEMES.some((s) => distance(scheme, s) <= 2) || scheme.startsWith('pg');
  if (nearPg)
    throw new MirrorLocationError(
      `MIRROR_DB=${shown}: unknown scheme "${scheme}:"; did you mean postgres://? (or give a file path for SQLite)`,
    );
  if (slashes || scheme === 'file' || scheme === 'sqlite')
    throw new MirrorLocationError(
      `MIRROR_DB=${shown}: unsupported scheme "${scheme}:"; give a file path for SQLite (without a scheme) or a postgres:// URL`,
    );
  // `name:with-colon.db`: an odd but valid file name.
  return { kind: 'sqlite', path: v };
}

function checkPgUrl(url: string, shown: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MirrorLocationError(
      `MIRROR_DB=${shown} is not a valid PostgreSQL URL; write postgres://user:password@host:port/database (percent-encode special characters in the password)`,
    );
  }
  // `postgres:///db?host=/run/postgresql` (a socket folder) is valid for node-postgres too.
  if (u.hostname === '' && !u.searchParams.has('host'))
    throw new MirrorLocationError(
      `MIRROR_DB=${shown} names no host; write postgres://user:password@host:port/database`,
    );
  return shown;
}
