/**
 * Button clicks (callback queries whose data is an action token): answered at once, run through
 * `dispatcher.click` as the clicker (same role check as typing it), then the message is edited to
 * show the outcome ("✓ Retried 1 dead letter. — by Ana at …") without its keyboard. A clicker
 * without the role gets the refusal as the callback answer and the message stays as it was; a
 * second click learns who already did it.
 */
import { Composer, type Context } from 'grammy';
import type { CallbackQuery, InlineKeyboardButton } from 'grammy/types';
import type { Dispatcher, Invoker } from '../../dispatcher.ts';
import { fmtDate, type Reply } from '../../reply.ts';
import { telegramInvoker, type TelegramDeps } from './context.ts';
import { appendOutcome, CANCEL_PREFIX, CONFIRM_PREFIX, escapeHtml, outcomeLine } from './render.ts';

/** True when the token is live and the invoker's role may run its command (a quick pre-check). */
function mayRun(dispatcher: Dispatcher, token: string, invoker: Invoker): Promise<boolean> {
  return dispatcher.mayClick(token, invoker);
}

const short = (text: string) => (text.length > 190 ? `${text.slice(0, 189)}…` : text);
const hasMore = (r: Reply) => Boolean(r.title || r.fields?.length || r.table?.rows.length || r.actions?.length || r.text.includes('\n'));

type Keyboard = InlineKeyboardButton[][];

/** The message's keyboard with the button whose data is `data` replaced by `replacement`. */
function swapButton(query: CallbackQuery, data: string, replacement: InlineKeyboardButton[]): Keyboard | undefined {
  const msg = query.message as { reply_markup?: { inline_keyboard?: Keyboard } } | undefined;
  const rows = msg?.reply_markup?.inline_keyboard;
  if (!rows) return undefined;
  return rows.map((row) => row.flatMap((b) => ('callback_data' in b && b.callback_data === data ? replacement : [b])));
}

/** A destructive action asks first: its button becomes "Yes" (the real token) and "Cancel". */
async function askConfirmation(deps: TelegramDeps, query: CallbackQuery, token: string): Promise<void> {
  const { tokens, sender } = deps;
  const label = (await tokens.label(token)) ?? 'this';
  await sender.api.answerCallbackQuery(query.id, { text: `Confirm: ${label}?` }).catch(() => {});
  const keyboard = swapButton(query, `${CONFIRM_PREFIX}${token}`, [
    { text: `✓ Yes, ${label}`, callback_data: token },
    { text: 'Cancel', callback_data: `${CANCEL_PREFIX}${token}` },
  ]);
  if (keyboard && query.message) await sender.api.editMessageReplyMarkup(query.message.chat.id, query.message.message_id, { reply_markup: { inline_keyboard: keyboard } });
}

/** Cancel puts the original button back. */
async function cancelConfirmation(deps: TelegramDeps, query: CallbackQuery, token: string): Promise<void> {
  const { tokens, sender } = deps;
  const label = (await tokens.label(token)) ?? 'Action';
  await sender.api.answerCallbackQuery(query.id, { text: 'Cancelled.' }).catch(() => {});
  const msg = query.message as { reply_markup?: { inline_keyboard?: Keyboard } } | undefined;
  const rows = msg?.reply_markup?.inline_keyboard ?? [];
  const keyboard = rows
    .map((row) => row.filter((b) => !('callback_data' in b && b.callback_data === `${CANCEL_PREFIX}${token}`)))
    .map((row) => row.map((b) => ('callback_data' in b && b.callback_data === token ? { text: `⚠ ${label}`, callback_data: `${CONFIRM_PREFIX}${token}` } : b)));
  if (query.message) await sender.api.editMessageReplyMarkup(query.message.chat.id, query.message.message_id, { reply_markup: { inline_keyboard: keyboard } });
}

/** The composer for callback queries: a button's data runs as a click; anything else is just answered. */
export function clickRoutes(deps: TelegramDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on('callback_query:data', (ctx) => handleClick(deps, ctx.callbackQuery));
  composer.on('callback_query', (ctx) => ctx.answerCallbackQuery());
  return composer;
}

/** Handles one callback query. */
export async function handleClick(deps: TelegramDeps, query: CallbackQuery): Promise<void> {
  const { ops, dispatcher, sender, log } = deps;
  const api = sender.api;
  const data = query.data ?? '';
  const invoker = await telegramInvoker(ops, query.from);
  if (data.startsWith(CANCEL_PREFIX)) return cancelConfirmation(deps, query, data.slice(1));
  const confirming = data.startsWith(CONFIRM_PREFIX);
  const token = confirming ? data.slice(1) : data;
  // Only someone who may run it is asked; anyone else gets the refusal below, as for any button.
  if (confirming && (await mayRun(dispatcher, token, invoker))) return askConfirmation(deps, query, token);
  const early = token !== '' && (await mayRun(dispatcher, token, invoker));
  if (early) await api.answerCallbackQuery(query.id).catch((err: unknown) => log.warn({ err }, 'answerCallbackQuery failed'));
  const result = token
    ? await dispatcher.click(token, invoker)
    : { status: 'error' as const, reply: { text: 'This button has expired; run the command again.' } };
  if (!early) {
    await api.answerCallbackQuery(query.id, { text: short(result.reply.text), show_alert: result.status === 'denied' });
    return; // refused, expired or already done: the message stays as it is
  }
  const msg = query.message;
  if (!msg || result.status === 'denied' || ('alreadyDone' in result && result.alreadyDone)) return;
  const chatId = msg.chat.id;
  const before = (await sender.storedHtml(chatId, msg.message_id)) ?? escapeHtml(('text' in msg && msg.text) || '');
  const line = outcomeLine(result.status === 'ok', result.reply.text, invoker.actor.name, fmtDate(new Date()));
  await sender.editHtml(chatId, msg.message_id, appendOutcome(before, line));
  if (result.status === 'ok' && hasMore(result.reply)) await sender.sendReply(chatId, result.reply);
}
