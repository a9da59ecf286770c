/**
 * Browser-facing defences of the server. Every response carries a strict Content-Security-Policy (scripts,
 * styles and connections from this origin only; no inline script, no framing, no plugins), so even a string
 * that slipped into the page as markup could not run. The console's writes are POSTs that must (1) come with
 * the token (custom header: a cross-site form cannot send one), (2) be JSON (a cross-site `fetch` of JSON
 * needs a CORS preflight, which this server never grants), and (3) not come from another origin
 * (`Origin` / `Sec-Fetch-Site`, where the browser sends them).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cross-origin-opener-policy', 'same-origin');
    return payload;
  });
}

/** Why a console POST looks cross-site, or undefined when it does not. */
export function crossSiteReason(request: FastifyRequest): string | undefined {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) return 'actions must be sent as application/json';
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  }
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'cross-site request refused (unparsable Origin)';
    }
    if (host !== request.headers.host) return `cross-site request refused (Origin ${origin})`;
  } else if (origin === 'null') {
    return 'cross-site request refused (Origin null)';
  }
  return undefined;
}
