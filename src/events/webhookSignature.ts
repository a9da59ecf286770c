/**
 * Webhook signatures: `X-Retab-Mirror-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 * Signing the timestamp with the body lets a receiver reject replays older than its tolerance.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Retab-Mirror-Signature';
export const EVENT_ID_HEADER = 'X-Retab-Mirror-Event-Id';
export const EVENT_TYPE_HEADER = 'X-Retab-Mirror-Event-Type';

function hmac(secret: string, timestamp: number, payload: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(payload).digest('hex');
}

/** The header value for `payload` (the exact request body) signed at `timestamp` (unix seconds). */
export function signWebhookPayload(
  payload: string | Buffer,
  secret: string,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, payload)}`;
}

export interface VerifyWebhookSignatureOptions {
  /** The raw request body, exactly as received (do not re-serialize parsed JSON). */
  payload: string | Buffer;
  /** The `X-Retab-Mirror-Signature` header value. */
  header: string | string[] | undefined | null;
  secret: string;
  /** Reject signatures whose timestamp is further than this from now (replay protection). @default 300 */
  toleranceSeconds?: number;
  /** Current time, unix seconds (tests). @default now */
  now?: number;
}

/**
 * True when `header` carries a `v1` signature of `payload` under `secret` with a fresh timestamp.
 * Several `v1=` entries are accepted (secret rotation); comparisons are constant-time.
 */
export function verifyWebhookSignature(opts: VerifyWebhookSignatureOptions): boolean {
  const header = Array.isArray(opts.header) ? opts.header[0] : opts.header;
  if (!header || !opts.secret) return false;
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) candidates.push(value.toLowerCase());
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(hmac(opts.secret, timestamp, opts.payload), 'hex');
  let ok = false;
  for (const candidate of candidates) {
    // Compare every candidate (no early exit) so timing does not reveal which one matched.
    if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) ok = true;
  }
  return ok;
}
