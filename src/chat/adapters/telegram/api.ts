/**
 * The grammY Api client as Switchboard uses it: TELEGRAM_API_ROOT honoured, sends paced to about
 * one message a second per chat, and 429 "Too Many Requests" answers waited out (retry_after)
 * and retried, so no caller has to think about Telegram's limits.
 */
import { Api, GrammyError, type Transformer } from 'grammy';
import type { Config } from '../../../config.ts';
import type { Logger } from '../../../log.ts';

export interface ApiOptions {
  /** Minimum gap between two sends or edits to one chat (default 1000 ms). */
  chatGapMs?: number;
  /** Give up on a call after this many 429 answers (default 5). */
  maxRetries?: number;
  /** Longest retry_after we wait out (default 120 s); longer ones fail the call. */
  maxRetryAfterSec?: number;
}

const PACED = new Set(['sendMessage', 'editMessageText', 'editMessageReplyMarkup', 'sendDocument', 'deleteMessage']);

const wait = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Waits out 429 answers (parameters.retry_after) and retries the call. */
export function retryAfterTransformer(log: Logger, opts: ApiOptions = {}): Transformer {
  const maxRetries = opts.maxRetries ?? 5;
  const maxWait = opts.maxRetryAfterSec ?? 120;
  return async (prev, method, payload, signal) => {
    for (let attempt = 0; ; attempt++) {
      const res = await prev(method, payload, signal);
      if (res.ok || res.error_code !== 429 || attempt >= maxRetries || signal?.aborted) return res;
      const after = Number(res.parameters?.retry_after ?? 1);
      if (after > maxWait) return res;
      log.warn({ method, retryAfter: after }, 'Telegram rate limit: waiting before retrying');
      await wait(after * 1000, signal as unknown as AbortSignal | undefined);
    }
  };
}

/** Spaces sends and edits to the same chat by `gapMs`, in call order. */
export function chatPacingTransformer(gapMs: number): Transformer {
  const nextFree = new Map<string, number>();
  return async (prev, method, payload, signal) => {
    const chat = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    if (!PACED.has(method) || chat === undefined || gapMs <= 0) return prev(method, payload, signal);
    const key = String(chat);
    const now = Date.now();
    const at = Math.max(now, nextFree.get(key) ?? 0);
    nextFree.set(key, at + gapMs);
    if (nextFree.size > 1000) for (const [k, t] of nextFree) if (t < now) nextFree.delete(k);
    await wait(at - now, signal as unknown as AbortSignal | undefined);
    return prev(method, payload, signal);
  };
}

/** Installs pacing and 429 handling on an Api (a Bot's `bot.api` or a standalone one). */
export function configureApi(api: Api, log: Logger, opts: ApiOptions = {}): Api {
  api.config.use(retryAfterTransformer(log, opts), chatPacingTransformer(opts.chatGapMs ?? 1000));
  return api;
}

/** A standalone Api for TELEGRAM_BOT_TOKEN (used where no Bot runs, e.g. signup messages from HTTP). */
export function createApi(config: Config, log: Logger, opts: ApiOptions = {}): Api | undefined {
  if (!config.TELEGRAM_BOT_TOKEN) return undefined;
  const api = new Api(config.TELEGRAM_BOT_TOKEN, clientOptions(config));
  return configureApi(api, log, opts);
}

/**
 * grammY client options: TELEGRAM_API_ROOT, and a request timeout of 60 s (grammY waits 500 s by
 * default, so a hung Bot API held a click's answer or a send for minutes); long polls ask for 25 s.
 */
export function clientOptions(config: Pick<Config, 'TELEGRAM_API_ROOT'>): { apiRoot?: string; timeoutSeconds: number } {
  return { ...(config.TELEGRAM_API_ROOT ? { apiRoot: config.TELEGRAM_API_ROOT.replace(/\/+$/, '') } : {}), timeoutSeconds: 60 };
}

/** True for Telegram's "message is not modified" answer to an edit that changes nothing. */
export function isNotModified(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 400 && /message is not modified/i.test(err.description);
}

/** True when the message to edit no longer exists (deleted by the user). */
export function isMessageGone(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 400 && /message to edit not found|message can't be edited/i.test(err.description);
}
