/** A local HTTP stand-in for the Telegram Bot API (`/bot<token>/<method>`), driven by the real grammY client. */
import type { ServerResponse } from 'node:http';
import type { Chat, InlineKeyboardMarkup, MessageEntity, Update, User } from 'grammy/types';
import { isRecord, parseBody, sendJson, startHttpServer, type RecordedHeaders } from './fakeHttp.ts';
import { botUserFor, chatFor, DEFAULT_TELEGRAM_TOKEN, type UpdateInput } from './telegramUpdates.ts';
import { Recorder } from './waitFor.ts';

export { botUserFor, callbackUpdate, DEFAULT_TELEGRAM_TOKEN, messageUpdate } from './telegramUpdates.ts';

/** One Bot API call as received. */
export interface TelegramCall {
  method: string;
  body: Record<string, unknown>;
  headers: RecordedHeaders;
  /** HTTP status the fake answered with. */
  status: number;
}

/** A message the bot sent, in its current state (after edits). Text is stored verbatim (parse_mode is not applied). */
export interface SentMessage {
  message_id: number;
  date: number;
  edit_date?: number;
  chat: Chat;
  from: User;
  text: string;
  entities?: MessageEntity[];
  reply_markup?: InlineKeyboardMarkup;
}

/** An injected failure for the next call of a method. */
export type TelegramFailure =
  | { status: 429; retryAfter: number }
  | { status: 409; description?: string }
  | { status: number; description: string };

/** The running fake. */
export interface FakeTelegram {
  /** For grammY `client.apiRoot` (no trailing slash). */
  apiRoot: string;
  /** The token the fake accepts (others get 401). */
  token: string;
  /** Every call, oldest first (live array). */
  calls: TelegramCall[];
  /** Calls of one method, oldest first. */
  callsOf(method: string): TelegramCall[];
  /** Resolves with the first call of `method` matching `predicate`, waiting if none yet. */
  waitForCall(method: string, predicate?: (call: TelegramCall) => boolean, timeoutMs?: number): Promise<TelegramCall>;
  /** Queues an update for getUpdates (assigning the next update_id if absent) and wakes long polls. */
  pushUpdate(update: UpdateInput): Update;
  /** Updates not yet confirmed by a getUpdates offset. */
  pendingUpdates(): Update[];
  /** Makes the next call of `method` fail Telegram-style (`{ ok: false, error_code, description, parameters }`). */
  failNext(method: string, failure: TelegramFailure): void;
  /** Current state of the messages the bot sent to a chat (edits applied, deletions removed), oldest first. */
  messages(chatId: number | string): SentMessage[];
  /** Clears recorded calls and pending failures (sent messages and updates are kept). */
  reset(): void;
  /** Answers held long polls with [] and stops the server at once. */
  close(): Promise<void>;
}

interface Waiter {
  res: ServerResponse;
  offset: number;
  limit: number;
  timer: NodeJS.Timeout;
}

type Reply = { status: number; body: Record<string, unknown> };

const JSON_FIELDS = ['reply_markup', 'entities', 'caption_entities', 'link_preview_options', 'reply_parameters', 'commands', 'scope', 'allowed_updates', 'media'];
const ok = (result: unknown): Reply => ({ status: 200, body: { ok: true, result } });
const bad = (status: number, description: string, parameters?: Record<string, unknown>): Reply => ({
  status,
  body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) },
});
const CONFLICT = 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
const NOT_MODIFIED =
  'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

/** Starts a fake Telegram Bot API on 127.0.0.1 (random port). */
export async function startFakeTelegram(token: string = DEFAULT_TELEGRAM_TOKEN): Promise<FakeTelegram> {
  const calls = new Recorder<TelegramCall>();
  const failures = new Map<string, TelegramFailure[]>();
  const sent = new Map<number, SentMessage>();
  const knownChats = new Map<number, Chat>();
  const bot = botUserFor(token);
  const botAsSender: User = { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username };
  let queue: Update[] = [];
  let lastUpdateId = 0;
  let nextMessageId = 1;
  const waiters = new Set<Waiter>();

  const chatOf = (chatId: unknown): Chat => {
    const id = typeof chatId === 'number' ? chatId : Number(chatId);
    if (Number.isFinite(id)) return knownChats.get(id) ?? chatFor(id);
    const username = String(chatId).replace(/^@/, '');
    return { id: -1_000_000_000_000 - username.length, type: 'channel', title: username, username };
  };
  const markupOf = (value: unknown): InlineKeyboardMarkup | undefined =>
    isRecord(value) && Array.isArray(value.inline_keyboard) ? (value as unknown as InlineKeyboardMarkup) : undefined;
  const sameMarkup = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const findSent = (body: Record<string, unknown>): SentMessage | undefined => {
    const msg = sent.get(Number(body.message_id));
    return msg && String(msg.chat.id) === String(chatOf(body.chat_id).id) ? msg : undefined;
  };

  const takeUpdates = (offset: number, limit: number): Update[] => {
    if (offset > 0) queue = queue.filter((u) => u.update_id >= offset);
    else if (offset < 0) queue = queue.slice(offset);
    return queue.slice(0, limit);
  };
  const settle = (w: Waiter, reply: Reply): void => {
    clearTimeout(w.timer);
    waiters.delete(w);
    sendJson(w.res, reply.status, reply.body);
  };
  const wake = (): void => {
    for (const w of [...waiters]) {
      const updates = takeUpdates(w.offset, w.limit);
      if (updates.length > 0) settle(w, ok(updates));
    }
  };

  const answer = (method: string, body: Record<string, unknown>, res: ServerResponse): Reply | undefined => {
    switch (method) {
      case 'getMe':
        return ok(bot);
      case 'getUpdates': {
        const offset = Number(body.offset ?? 0);
        const limit = Math.min(Math.max(Number(body.limit ?? 100), 1), 100);
        const timeoutSec = Number(body.timeout ?? 0);
        for (const w of [...waiters]) settle(w, bad(409, CONFLICT));
        const updates = takeUpdates(offset, limit);
        if (updates.length > 0 || timeoutSec <= 0) return ok(updates);
        const waiter: Waiter = { res, offset, limit, timer: setTimeout(() => settle(waiter, ok([])), timeoutSec * 1000) };
        waiters.add(waiter);
        res.on('close', () => {
          clearTimeout(waiter.timer);
          waiters.delete(waiter);
        });
        return undefined;
      }
      case 'sendMessage': {
        if (body.chat_id === undefined || body.chat_id === '') return bad(400, 'Bad Request: chat_id is empty');
        if (typeof body.text !== 'string' || body.text.trim() === '') return bad(400, 'Bad Request: message text is empty');
        const message: SentMessage = {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat: chatOf(body.chat_id),
          from: botAsSender,
          text: body.text,
        };
        if (Array.isArray(body.entities)) message.entities = body.entities as MessageEntity[];
        const markup = markupOf(body.reply_markup);
        if (markup) message.reply_markup = markup;
        sent.set(message.message_id, message);
        return ok(message);
      }
      case 'editMessageText':
      case 'editMessageReplyMarkup': {
        if (body.inline_message_id !== undefined) return ok(true);
        const msg = findSent(body);
        if (!msg) return bad(400, 'Bad Request: message to edit not found');
        const markup = markupOf(body.reply_markup);
        const text = method === 'editMessageText' ? body.text : msg.text;
        if (typeof text !== 'string' || text.trim() === '') return bad(400, 'Bad Request: message text is empty');
        if (text === msg.text && sameMarkup(markup, msg.reply_markup)) return bad(400, NOT_MODIFIED);
        msg.text = text;
        if (method === 'editMessageText') {
          if (Array.isArray(body.entities)) msg.entities = body.entities as MessageEntity[];
          else delete msg.entities;
        }
        if (markup) msg.reply_markup = markup;
        else delete msg.reply_markup;
        msg.edit_date = Math.floor(Date.now() / 1000);
        return ok(msg);
      }
      case 'deleteMessage': {
        const msg = findSent(body);
        if (!msg) return bad(400, 'Bad Request: message to delete not found');
        sent.delete(msg.message_id);
        return ok(true);
      }
      case 'deleteWebhook':
        if (body.drop_pending_updates === true || body.drop_pending_updates === 'true') queue = [];
        return ok(true);
      case 'getWebhookInfo':
        return ok({ url: '', has_custom_certificate: false, pending_update_count: queue.length });
      default:
        return ok(true);
    }
  };

  const fake = await startHttpServer(async (req, res, raw) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) {
      sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    const [, gotToken, method] = match;
    const body = await parseBody(raw, req.headers['content-type'], JSON_FIELDS);
    for (const [k, v] of url.searchParams) if (!(k in body)) body[k] = v;
    const record = (status: number): void => void calls.record({ method, body, headers: { ...req.headers }, status });
    if (decodeURIComponent(gotToken) !== token) {
      record(401);
      const reply = bad(401, 'Unauthorized');
      sendJson(res, reply.status, reply.body);
      return;
    }
    const failure = failures.get(method)?.shift();
    if (failure) {
      const reply =
        failure.status === 429 && 'retryAfter' in failure
          ? bad(429, `Too Many Requests: retry after ${failure.retryAfter}`, { retry_after: failure.retryAfter })
          : bad(failure.status, ('description' in failure && failure.description) || CONFLICT);
      record(reply.status);
      sendJson(res, reply.status, reply.body);
      return;
    }
    const reply = answer(method, body, res);
    record(reply?.status ?? 200);
    if (reply) sendJson(res, reply.status, reply.body);
  });

  return {
    apiRoot: fake.origin,
    token,
    calls: calls.items,
    callsOf: (method) => calls.items.filter((c) => c.method === method),
    waitForCall(method, predicate = () => true, timeoutMs) {
      return calls.waitFor((c) => c.method === method && predicate(c), `Telegram ${method} call`, timeoutMs);
    },
    pushUpdate(input) {
      const update_id = input.update_id ?? lastUpdateId + 1;
      lastUpdateId = Math.max(lastUpdateId, update_id);
      const update = { ...input, update_id } as Update;
      const chat = update.message?.chat ?? update.callback_query?.message?.chat;
      if (chat && !knownChats.has(chat.id)) knownChats.set(chat.id, chat);
      queue.push(update);
      wake();
      return update;
    },
    pendingUpdates: () => [...queue],
    failNext(method, failure) {
      failures.set(method, [...(failures.get(method) ?? []), failure]);
    },
    messages(chatId) {
      const id = String(chatOf(chatId).id);
      return [...sent.values()].filter((m) => String(m.chat.id) === id).sort((a, b) => a.message_id - b.message_id);
    },
    reset() {
      calls.clear();
      failures.clear();
    },
    async close() {
      for (const w of [...waiters]) settle(w, ok([]));
      await fake.close();
    },
  };
}
