/**
 * How the dashboard answers over HTTP: security headers on every answer (a strict
 * Content-Security-Policy: scripts and styles from our origin only, no inline ones; no framing;
 * no referrer, so a sign-in link never leaks), the session cookie, and form bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const SESSION_COOKIE = 'sb_dashboard';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** Answers with an HTML page. */
export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', ...headers });
  res.end(html);
}

/** Answers 303 See Other (after a POST). */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, location, ...headers });
  res.end();
}

/** Any answer with the security headers (static files, CSV). */
export function sendBody(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string>): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

/** Starts an answer to be streamed with res.write (a CSV export). */
export function startBody(res: ServerResponse, status: number, headers: Record<string, string>): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
}

/** The Set-Cookie value for a session id; Secure when the dashboard is served over HTTPS. */
export function sessionCookie(id: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

/** The cookie that ends a session in the browser. */
export function clearedCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}

/** One cookie's value from the request. */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** An urlencoded form body as a plain record (the last value of a repeated name wins). */
export function formBody(raw: Buffer): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
}

/** The request's query parameters. */
export function queryOf(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://x').searchParams;
}

/** A /ui path to come back to, from a form; anything else becomes /ui. */
export function safeBack(value: string | undefined): string {
  return value && /^\/ui(?:[/?]|$)/.test(value) && !value.startsWith('//') ? value : '/ui';
}
