/**
 * Signup HTTP endpoints on the Switchboard HttpServer:
 *   GET  /auth/signup/status  → { has_telegram_token, owner_bound }
 *   POST /auth/signup/start   { name, contact }    → 201 { signup_id, expires_at } (JSON only: else 415)
 *   POST /auth/signup/verify  { signup_id, pin }   → 200 { ok: true, role }
 * Failures answer 4xx/5xx with { error, code } (code: wrong_pin, expired, locked, no_owner, ...).
 */
import type { IncomingMessage } from 'node:http';
import type { Actor } from '../db/collections.ts';
import { sendJson, type HttpServer } from '../http/server.ts';
import { SignupError } from './types.ts';
import type { Signups } from './signup.ts';

/** The body as a JSON object (an empty body counts as {}); undefined for anything else (null, arrays, garbage). */
function readJson(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(raw.toString('utf8') || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** True when the request says its body is JSON (`application/json`, any parameters, or a `+json` type). */
function saysJson(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

function httpActor(req: IncomingMessage, name?: unknown): Actor {
  const ip = req.socket.remoteAddress ?? 'unknown';
  return { platform: 'http', id: ip, name: typeof name === 'string' && name.trim() ? `signup: ${name.trim().slice(0, 64)}` : `signup from ${ip}` };
}

/** Mounts the three signup routes. */
export function mountSignupRoutes(http: HttpServer, signups: Signups): void {
  http.route('GET', '/auth/signup/status', async (_req, res) => {
    const a = await signups.availability();
    sendJson(res, 200, { has_telegram_token: a.hasToken, owner_bound: a.ownerBound });
  });

  http.route('POST', '/auth/signup/start', async (req, res, raw) => {
    if (!saysJson(req)) return sendJson(res, 415, { error: 'Send the body as JSON (Content-Type: application/json).', code: 'unsupported_media_type' });
    const body = readJson(raw);
    if (!body) return sendJson(res, 400, { error: 'The body must be a JSON object with name and contact.', code: 'invalid' });
    try {
      const s = await signups.start({ name: body.name, contact: body.contact, via: 'http' }, httpActor(req, body.name));
      sendJson(res, 201, { signup_id: s.id, expires_at: s.expiresAt.toISOString() });
    } catch (err) {
      if (!(err instanceof SignupError)) throw err;
      sendJson(res, err.httpStatus, { error: err.message, code: err.code });
    }
  });

  http.route('POST', '/auth/signup/verify', async (req, res, raw) => {
    const body = readJson(raw);
    if (!body || typeof body.signup_id !== 'string' || (typeof body.pin !== 'string' && typeof body.pin !== 'number')) {
      return sendJson(res, 400, { error: 'The body must be a JSON object with signup_id (a string) and pin.', code: 'invalid' });
    }
    try {
      const pin = typeof body.pin === 'number' ? String(body.pin).padStart(6, '0') : body.pin;
      const s = await signups.verify(body.signup_id, pin, httpActor(req));
      sendJson(res, 200, { ok: true, role: s.role });
    } catch (err) {
      if (!(err instanceof SignupError)) throw err;
      const left = err.extra.attemptsLeft;
      sendJson(res, err.httpStatus, { error: err.message, code: err.code, ...(typeof left === 'number' ? { attempts_left: left } : {}) });
    }
  });
}
