/** A Switchboard app with the Telegram adapter against the fake Bot API, our HttpServer on port 0, and helpers to talk to it. */
import type { Update } from 'grammy/types';
import { mountSignupRoutes } from '../../src/auth/routes.ts';
import { startTelegram, type TelegramAdapter, type TelegramOptions } from '../../src/chat/adapters/telegram/index.ts';
import { HttpServer } from '../../src/http/server.ts';
import type { JobDefinition } from '../../src/engine/defineJob.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { TestClock } from '../support/clock.ts';
import { testLogger } from '../support/engine.ts';
import { callbackUpdate, messageUpdate, startFakeTelegram, type FakeTelegram, type TelegramCall } from '../support/fakeTelegram.ts';
import { onCleanup } from '../support/mongo.ts';

export const WEBHOOK_SECRET = 'test-webhook-secret_123';
export const WAIT_MS = 20_000;

export interface Harness {
  app: TestApp;
  /** The app's clock (bind codes, PINs): move it past an expiry. */
  clock: TestClock;
  fake: FakeTelegram;
  http: HttpServer;
  /** http://127.0.0.1:PORT of our HttpServer. */
  base: string;
  tg: TelegramAdapter | undefined;
  /** The first call of `method` made after this helper was called that matches. */
  nextCall(method: string, match?: (c: TelegramCall) => boolean): { wait: () => Promise<TelegramCall> };
  /** Delivers an update (webhook POST or getUpdates, per mode). */
  deliver(update: Update | Omit<Update, 'update_id'>): Promise<void>;
  /** Sends `text` as user `fromId` in their private chat and resolves with the bot's next message to that chat. */
  say(fromId: number, text: string, firstName?: string): Promise<TelegramCall>;
  /** Clicks the button with `token` on bot message `messageId` in `chatId`'s chat, as `fromId`. */
  click(fromId: number, messageId: number, token: string, chatId?: number): Promise<void>;
  /** Binds `userId` as the owner with a fresh code; resolves with the bot's answer. */
  bindOwner(userId: number, firstName?: string): Promise<TelegramCall>;
  /** POSTs JSON to our HttpServer. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  get(path: string): Promise<{ status: number; body: any }>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  webhook?: boolean;
  /** Do not start the Telegram adapter (signup routes only). */
  noBot?: boolean;
  /** Leave TELEGRAM_BOT_TOKEN unset. */
  noToken?: boolean;
  telegram?: TelegramOptions;
  work?: boolean;
  extraJobs?: JobDefinition[];
}

/** Starts everything; stopped when the test file ends. */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const fake = await startFakeTelegram();
  const http = new HttpServer(testLogger());
  const port = await http.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    ...(opts.noToken ? {} : { TELEGRAM_BOT_TOKEN: fake.token }),
    TELEGRAM_API_ROOT: fake.apiRoot,
    ...(opts.webhook ? { TELEGRAM_WEBHOOK_URL: `${base}/auth/telegram/webhook`, TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET } : {}),
    ...opts.env,
  };
  // Codes and PINs expire on this clock: tests move it rather than back-date what was stored.
  const clock = new TestClock();
  const app = await startTestApp({ env, work: opts.work ?? false, extraJobs: opts.extraJobs, telegramApi: { chatGapMs: 10 }, clock });
  mountSignupRoutes(http, app.ops.signups);
  const tg = opts.noBot || opts.noToken ? undefined : await startTelegram(app.frontEnd, http, { chatGapMs: 10, backoffMs: 50, renewMs: 200, pollTimeoutSec: 5, ...opts.telegram });
  onCleanup(async () => {
    await tg?.stop();
    await http.close();
    await fake.close();
  });

  const nextCall: Harness['nextCall'] = (method, match = () => true) => {
    const from = fake.calls.length;
    return { wait: () => fake.waitForCall(method, (c) => fake.calls.indexOf(c) >= from && match(c), WAIT_MS) };
  };
  const request = async (path: string, init: RequestInit) => {
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const post: Harness['post'] = (path, body, headers = {}) =>
    request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  let nextUpdateId = 10_000;
  const deliver: Harness['deliver'] = async (update) => {
    if (!opts.webhook) return void fake.pushUpdate(update);
    const full = { update_id: ++nextUpdateId, ...update };
    const res = await post('/auth/telegram/webhook', full, { 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET });
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  };
  const say: Harness['say'] = async (fromId, text, firstName) => {
    const reply = nextCall('sendMessage', (c) => Number(c.body.chat_id) === fromId);
    await deliver(messageUpdate({ fromId, chatId: fromId, text, firstName }));
    return reply.wait();
  };
  return {
    app,
    clock,
    fake,
    http,
    base,
    tg,
    nextCall,
    deliver,
    say,
    async click(fromId, messageId, token, chatId = fromId) {
      await deliver(callbackUpdate({ fromId, chatId, data: token, messageId }));
    },
    async bindOwner(userId, firstName = 'Olga') {
      const made = await app.dispatcher.run('telegram bind-code', { actor: { platform: 'cli', id: 'test', name: 'test' }, role: 'admin' });
      const { code } = made.reply.data as { code: string };
      return say(userId, `/bind ${code}`, firstName);
    },
    post,
    get: (path) => request(path, { method: 'GET' }),
  };
}

/** The tokens of a sent message's inline keyboard, by button text. */
export function buttons(call: TelegramCall): Record<string, string> {
  const markup = call.body.reply_markup as { inline_keyboard?: Array<Array<{ text: string; callback_data: string }>> } | undefined;
  const out: Record<string, string> = {};
  for (const row of markup?.inline_keyboard ?? []) for (const b of row) out[b.text.replace(/^⚠ /, '')] = b.callback_data;
  return out;
}

/** The message_id the fake assigned to a sendMessage call (from the fake's record of the chat). */
export function messageIdOf(h: Harness, call: TelegramCall): number {
  const sent = h.fake.messages(Number(call.body.chat_id)).filter((m) => m.text === call.body.text);
  if (!sent.length) throw new Error('sent message not found in the fake');
  return sent[sent.length - 1].message_id;
}
