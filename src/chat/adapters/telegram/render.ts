/**
 * Reply → Telegram HTML: title bold, text with `code` spans, fields as lines, tables in `<pre>`,
 * actions as an inline keyboard whose callback_data is the action's token alone. Long replies are
 * split at 4096 characters with balanced tags (split.ts); the keyboard goes on the last part.
 */
import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'grammy/types';
import { renderTable, type Reply, type ReplyAction } from '../../reply.ts';
import { splitHtml, TELEGRAM_MAX_TEXT } from './split.ts';

export interface RenderedReply {
  /** Message texts (parse_mode HTML), each at most 4096 characters. */
  parts: string[];
  /** Inline keyboard for the last part, when the reply has actions with tokens. */
  keyboard?: InlineKeyboardMarkup;
}

/** Escapes text for Telegram HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escaped text where `backtick spans` become `<code>`. */
export function inlineHtml(text: string): string {
  return text
    .split(/(`[^`\n]+`)/g)
    .map((chunk) => (/^`[^`\n]+`$/.test(chunk) ? `<code>${escapeHtml(chunk.slice(1, -1))}</code>` : escapeHtml(chunk)))
    .join('');
}

/** The HTML body of a reply (no splitting); with `json`, the reply's data as a JSON block. */
export function replyHtml(reply: Reply, opts: { json?: boolean } = {}): string {
  if (opts.json && reply.data !== undefined) return `<pre>${escapeHtml(JSON.stringify(reply.data, null, 2))}</pre>`;
  const out: string[] = [];
  if (reply.title) out.push(`<b>${escapeHtml(reply.title)}</b>`);
  if (reply.text && reply.text !== reply.title) out.push(inlineHtml(reply.text));
  if (reply.fields?.length) out.push(reply.fields.map((f) => `<b>${escapeHtml(f.label)}:</b> ${escapeHtml(f.value)}`).join('\n'));
  if (reply.table?.rows.length) out.push(`<pre>${escapeHtml(renderTable(reply.table))}</pre>`);
  return out.join('\n\n') || escapeHtml(reply.text || '(empty)');
}

/** Callback data of a button that asks before it runs, and of the Cancel of that question. */
export const CONFIRM_PREFIX = '?';
export const CANCEL_PREFIX = '!';

/** Inline keyboard for actions that carry tokens, two buttons a row. */
export function keyboardFor(actions: ReplyAction[] | undefined): InlineKeyboardMarkup | undefined {
  const buttons: InlineKeyboardButton[] = (actions ?? [])
    .filter((a) => a.token)
    // An action that asks for confirmation first shows a Yes/Cancel pair (`?` prefix; clicks.ts).
    .map((a) => ({ text: a.style === 'danger' ? `⚠ ${a.label}` : a.label, callback_data: `${a.confirm ? CONFIRM_PREFIX : ''}${a.token as string}` }));
  if (buttons.length === 0) return undefined;
  const rows: InlineKeyboardButton[][] = [];
  for (let i = 0; i < buttons.length; i += 2) rows.push(buttons.slice(i, i + 2));
  return { inline_keyboard: rows };
}

/** Renders a reply into message parts and a keyboard. */
export function renderReply(reply: Reply, opts: { json?: boolean; max?: number } = {}): RenderedReply {
  const parts = splitHtml(replyHtml(reply, opts), opts.max ?? TELEGRAM_MAX_TEXT);
  const keyboard = opts.json ? undefined : keyboardFor(reply.actions);
  return keyboard ? { parts, keyboard } : { parts };
}

/** Appends an outcome line to a message's HTML, shortening the message so the result fits. */
export function appendOutcome(html: string, outcome: string, max: number = TELEGRAM_MAX_TEXT): string {
  const line = `\n\n${outcome}`;
  if (html.length + line.length <= max) return html + line;
  const cut = splitHtml(html, Math.max(200, max - line.length - 2))[0];
  return `${cut}\n…${line}`;
}

/** One-line outcome of a click: "✓ Retried 1 dead letter. — by Ana at 2025-01-01T10:00:00Z". */
export function outcomeLine(ok: boolean, text: string, by: string, at: string): string {
  const first = text.split('\n')[0].trim();
  const shown = first.length > 300 ? `${first.slice(0, 299)}…` : first;
  return `${ok ? '✓' : '✗'} ${inlineHtml(shown)} — by ${escapeHtml(by)} at ${escapeHtml(at)}`;
}
