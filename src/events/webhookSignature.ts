/**
 * Webhook signatures per the Standard Webhooks specification (standardwebhooks.com), so a receiver can
 * verify with the `standardwebhooks` library in any language:
 *
 * - `webhook-id`: the event id (the same on every delivery of the event: receivers dedupe on it);
 * - `webhook-timestamp`: unix seconds when the request was signed;
 * - `webhook-signature`: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per secret, separated
 *   by spaces (during a rotation configure `"whsec_new whsec_old"`: receivers holding either one verify).
 *
 * A secret is `whsec_<padded base64 key>` (the spec's format: the key is the decoded bytes) or any other
 * printable-ASCII string, whose bytes are the key (`new Webhook(secret, { format: 'raw' })` on the receiving
 * side); `secretProblem` rejects anything else at start-up, as the libraries would read another key.
 *
 * Signing is a single HMAC, so it is done here with node:crypto rather than with a runtime dependency; the
 * tests verify real deliveries with the reference `standardwebhooks` package, so the two cannot drift.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const SIGNATURE_HEADER = 'webhook-signature';
/** Differs on every delivery of an event (a replay, a dead-letter resend); `webhook-id` does not. */
export const DELIVERY_ID_HEADER = 'x-retab-mirror-delivery-id';
export const EVENT_TYPE_HEADER = 'x-retab-mirror-event-type';

const SECRET_PREFIX = 'whsec_';
/** Padded base64 (the length a multiple of 4), as `openssl rand -base64` prints it and every Standard Webhooks library reads it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
/** Printable ASCII: a raw secret the libraries' `format: 'raw'` reads as the same bytes (they take one byte per character). */
const RAW = /^[\x21-\x7e]+$/;

/** The secrets of a (possibly space-separated) secret setting. */
export function splitSecrets(secret: string): string[] {
  return secret.split(/\s+/).filter(Boolean);
}

/** Why `secret` cannot be used, or undefined when it can (checked at start-up, naming the setting). */
export function secretProblem(secret: string): string | undefined {
  for (const s of splitSecrets(secret)) {
    if (s.startsWith(SECRET_PREFIX)) {
      const key = s.slice(SECRET_PREFIX.length);
      if (!BASE64.test(key) || Buffer.from(key, 'base64').length === 0)
        return `a "${SECRET_PREFIX}…" secret must be followed by base64, padded (e.g. from \`openssl rand -base64 32\`)`;
    } else if (!RAW.test(s)) {
      return `a raw secret (one not starting with "${SECRET_PREFIX}") must be printable ASCII, which receivers' Standard Webhooks libraries read byte for byte; use "${SECRET_PREFIX}" + base64 for any other key`;
    }
  }
  return undefined;
}

function keyOf(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX)
    ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

function sign(secret: string, id: string, timestamp: number, payload: string | Buffer): string {
  return createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.`).update(payload).digest('base64');
}

export interface SignWebhookOptions {
  /** The `webhook-id`: the event id. */
  id: string;
  /** The exact request body. */
  payload: string | Buffer;
  /** One secret, or several separated by spaces (each adds a signature). */
  secret: string;
  /** Unix seconds. @default now */
  timestamp?: number;
}

/** The `webhook-signature` value: `v1,<base64>` per secret, space-separated. */
export function signWebhookPayload(opts: SignWebhookOptions): string {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return splitSecrets(opts.secret)
    .map((s) => `v1,${sign(s, opts.id, timestamp, opts.payload)}`)
    .join(' ');
}

/** The three Standard Webhooks headers for one request (no signature when `secret` is empty). */
export function webhookSignatureHeaders(opts: Omit<SignWebhookOptions, 'secret'> & { secret?: string }) {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    [WEBHOOK_ID_HEADER]: opts.id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
  };
  if (opts.secret && splitSecrets(opts.secret).length > 0) {
    headers[SIGNATURE_HEADER] = signWebhookPayload({ ...opts, secret: opts.secret, timestamp });
  }
  return headers;
}

export interface VerifyWebhookSignatureOptions {
  /** The raw request body, exactly as received (do not re-serialize parsed JSON). */
  payload: string | Buffer;
  /** The request headers (`req.headers`): `webhook-id`, `webhook-timestamp`, `webhook-signature`. */
  headers: Record<string, string | string[] | undefined>;
  /** The secret, or several separated by spaces (any one may have signed). */
  secret: string;
  /** Reject timestamps further than this from now, either way (replay protection). @default 300 */
  toleranceSeconds?: number;
  /** Current time, unix seconds (tests). @default now */
  now?: number;
}

const header = (headers: VerifyWebhookSignatureOptions['headers'], name: string): string | undefined => {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * True when the headers carry a valid Standard Webhooks signature of `payload` under one of the secrets,
 * with a timestamp within the tolerance. Comparisons are constant-time. For Node receivers that would rather
 * not add the `standardwebhooks` package; both accept the same requests.
 */
export function verifyWebhookSignature(opts: VerifyWebhookSignatureOptions): boolean {
  const id = header(opts.headers, WEBHOOK_ID_HEADER);
  const ts = header(opts.headers, WEBHOOK_TIMESTAMP_HEADER);
  const signatures = header(opts.headers, SIGNATURE_HEADER);
  if (!id || !ts || !signatures || !/^\d+$/.test(ts) || !opts.secret) return false;
  const timestamp = Number(ts);
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (opts.toleranceSeconds ?? 300)) return false;
  const passed = signatures
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  let ok = false;
  for (const secret of splitSecrets(opts.secret)) {
    const expected = Buffer.from(sign(secret, id, timestamp, opts.payload), 'base64');
    for (const candidate of passed) {
      // Compare every pair (no early exit) so timing does not reveal which one matched.
      if (candidate.length === expected.length && timingSafeEqual(expected, candidate)) ok = true;
    }
  }
  return ok;
}
