/**
 * Credentials wherever they sit in a setting: a URL's userinfo (`redis://:PASSWORD@host`), a token-like
 * query parameter (`?token=…`, `?api_key=…`, `?sig=…`), or a field named like a secret at any depth (a
 * webhook's `secret`). `maskCredentials` hides them for display (`config`, `status`); `credentialValues`
 * lists them so the logger and the CLI's error line scrub them by value (log.ts `registerSecret`).
 */

export const MASK = '********';

/** Field names that hold a credential (at any depth: a webhook's `secret`). */
const SECRET_FIELD =
  /^(secret|password|passwd|pwd|token|auth|authorization|signature|credentials?)$|(secret|password|token|api[_-]?key|private[_-]?key|signature|credential)/i;
/** Query parameters that hold a credential: the same, plus the short forms URLs use (`key`, `sig`). */
const SECRET_PARAM = /^(key|sig|code)$/i;

export const isSecretName = (name: string): boolean => SECRET_FIELD.test(name);
const isSecretParam = (name: string): boolean => SECRET_FIELD.test(name) || SECRET_PARAM.test(name);

/** A userinfo without a password is taken for a token only when it looks like one (not `default`). */
const TOKEN_LIKE = /^[A-Za-z0-9._~+/=-]{16,}$/;

interface Found {
  masked: unknown;
  values: string[];
}

/** A userinfo part decoded; as written when it is not valid percent-encoding (a raw `%` in a password). */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** A credential as it may appear in a log line: decoded, and as written in the URL when that differs. */
const bothForms = (part: string): string[] => {
  const d = decoded(part);
  return d === part ? [part] : [d, part];
};

function inUrl(text: string): Found | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return undefined;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  const values: string[] = [];
  if (u.password) {
    values.push(...bothForms(u.password));
    u.password = MASK;
  } else if (TOKEN_LIKE.test(decoded(u.username))) {
    // A lone userinfo that looks like a token is one (`https://ghp_…@host`).
    values.push(...bothForms(u.username));
    u.username = MASK;
  }
  for (const [name, value] of [...u.searchParams]) {
    if (value !== '' && isSecretParam(name)) {
      values.push(value);
      u.searchParams.set(name, MASK);
    }
  }
  return values.length === 0 ? { masked: text, values } : { masked: u.toString(), values };
}

function walk(value: unknown, key: string | undefined): Found {
  if (key !== undefined && isSecretName(key) && value !== undefined && value !== null && value !== '') {
    return { masked: MASK, values: typeof value === 'string' ? [value] : [] };
  }
  if (typeof value === 'string') return inUrl(value) ?? { masked: value, values: [] };
  if (Array.isArray(value)) {
    const parts = value.map((v) => walk(v, undefined));
    return { masked: parts.map((p) => p.masked), values: parts.flatMap((p) => p.values) };
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    const values: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      const p = walk(v, k);
      out[k] = p.masked;
      values.push(...p.values);
    }
    return { masked: out, values };
  }
  return { masked: value, values: [] };
}

/** A copy of `value` with every credential replaced by `********` (see the file header). */
export function maskCredentials<T>(value: T): T {
  return walk(value, undefined).masked as T;
}

/** Every credential found in `value` (see the file header), for scrubbing by value. */
export function credentialValues(value: unknown): string[] {
  return walk(value, undefined).values;
}

/**
 * `text` with every credential that *looks* like one replaced by `********`, for text that may not parse (a
 * bad setting's value echoed in an error line: `redis://:pw@host:notaport`, a WEBHOOKS array with a syntax
 * error). Conservative: a URL's whole userinfo password (or a lone userinfo), token-like query parameters, and
 * JSON fields named like a secret, wherever they sit in the text.
 */
export function maskCredentialsInText(text: string): string {
  return (
    text
      // URL userinfo (up to the authority's last `@`): keep a user name before `:`, hide the rest.
      .replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'\\]*)@/gi, (_m, scheme: string, userinfo: string) => {
        const i = userinfo.indexOf(':');
        return i === -1 ? `${scheme}${MASK}@` : `${scheme}${userinfo.slice(0, i)}:${MASK}@`;
      })
      // Token-like query parameters.
      .replace(/([?&]([^=&#\s"'\\]+)=)([^&#\s"'\\]+)/g, (m, lead: string, name: string) =>
        isSecretParam(name) ? `${lead}${MASK}` : m,
      )
      // JSON fields named like a secret (a string, number or bare word value).
      .replace(/("([^"\\]+)"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\]\s]+)/g, (m, lead: string, name: string) =>
        isSecretName(name) ? `${lead}"${MASK}"` : m,
      )
  );
}
