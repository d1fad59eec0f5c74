/**
 * The Telegram webhook, `POST /auth/telegram/webhook` on our HttpServer. A request without the
 * matching `X-Telegram-Bot-Api-Secret-Token` gets 401 and nothing runs. A good one is answered as
 * soon as its update_id is recorded (duplicates are dropped there); the work happens afterwards.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Api } from 'grammy';
import type { Update } from 'grammy/types';
import { errorText, keepConnecting, type Connecting, type ConnectionStatus } from '../../../http/connections.ts';
import { sendJson, type HttpServer } from '../../../http/server.ts';
import type { Logger } from '../../../log.ts';
import type { PollingTrouble } from './poller.ts';

export const WEBHOOK_PATH = '/auth/telegram/webhook';

/** TELEGRAM_WEBHOOK_SECRET, or one derived from the bot token when it is unset (only the token holder knows it). */
export function webhookSecret(configured: string | undefined, token: string): string {
  return configured ?? createHash('sha256').update(`switchboard-telegram-webhook:${token}`).digest('base64url');
}

function sameSecret(given: string | string[] | undefined, want: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(want).digest();
  return timingSafeEqual(a, b) && given.length === want.length;
}

export interface WebhookOptions {
  secret: string;
  /** Records the update (false for a duplicate) and schedules its handling; resolves quickly. */
  receive: (update: Update) => Promise<void>;
  /** False once the adapter stopped: requests then get 503 so Telegram retries elsewhere. */
  active: () => boolean;
}

/** Mounts the webhook route. */
export function mountWebhook(http: HttpServer, opts: WebhookOptions): void {
  http.route('POST', WEBHOOK_PATH, async (req, res, raw) => {
    if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], opts.secret)) return sendJson(res, 401, { error: 'The secret token is missing or wrong.' });
    if (!opts.active()) return sendJson(res, 503, { error: 'This process is not serving Telegram right now.' });
    let update: unknown;
    try {
      update = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendJson(res, 400, { error: 'The body is not JSON.' });
    }
    const malformed = malformedUpdate(update);
    if (malformed) return sendJson(res, 400, { error: malformed });
    await opts.receive(update as Update);
    sendJson(res, 200, { ok: true });
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasId = (v: unknown): boolean => isObject(v) && Number.isSafeInteger(v.id);

/**
 * Why a body is not an update the handlers can take (one sentence), or undefined. Telegram always
 * sends a chat and a sender with a message, and a sender with a callback query (we ask for no
 * other kinds); anything else is refused here rather than failing inside a handler.
 */
function malformedUpdate(v: unknown): string | undefined {
  if (!isObject(v) || !Number.isSafeInteger(v.update_id)) return 'The body is not a Telegram update (an object with a numeric update_id).';
  const { message, callback_query: query } = v;
  if (message !== undefined && !(isObject(message) && hasId(message.chat) && hasId(message.from) && (message.text === undefined || typeof message.text === 'string'))) {
    return 'The update has a message without a chat, a sender or text.';
  }
  if (query !== undefined && !(isObject(query) && typeof query.id === 'string' && hasId(query.from))) return 'The update has a callback query without an id or a sender.';
  return undefined;
}

export interface WebhookRegistration {
  api: Api;
  url: string;
  secret: string;
  log: Logger;
  /** Told about every attempt, for /readyz. */
  status: ConnectionStatus;
  /** Runs first (getMe). */
  prepare: () => Promise<void>;
  onError: (trouble: PollingTrouble) => void;
  onRecovered?: () => void;
  /** First retry delay (default 1 s), doubled up to 60 s. */
  backoffMs?: number;
}

/** Calls setWebhook (with secret_token) until it works, logging and backing off; alerts after 3 failures. */
export function keepRegisteringWebhook(r: WebhookRegistration): Connecting {
  return keepConnecting({
    status: r.status,
    log: r.log,
    what: 'register the Telegram webhook',
    backoffMs: r.backoffMs,
    async attempt() {
      await r.prepare();
      await r.api.setWebhook(r.url, { secret_token: r.secret, allowed_updates: ['message', 'callback_query'] });
      r.log.info({ url: r.url }, 'Telegram webhook registered');
    },
    onFailure(failures, since, err) {
      if (failures === 3 || (failures > 3 && failures % 20 === 0)) r.onError({ failures, since, error: errorText(err) });
    },
    onConnected(failures) {
      if (failures >= 3) r.onRecovered?.();
    },
  });
}
