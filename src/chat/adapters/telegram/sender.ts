/**
 * Sends Replies to Telegram chats: tokens for buttons, HTML parts, the keyboard on the last part,
 * and a record of that message's HTML (collection `telegramMessages`, key "chat:message") so a
 * click can later edit it to show the outcome.
 */
import type { Api } from 'grammy';
import type { InlineKeyboardMarkup, Message } from 'grammy/types';
import type { Collection, Db } from 'mongodb';
import type { ActionTokens } from '../../actions.ts';
import type { Reply } from '../../reply.ts';
import type { IndexPlan } from '../../../db/collections.ts';
import { GrammyError } from 'grammy';
import { isMessageGone, isNotModified } from './api.ts';
import { renderReply } from './render.ts';

interface MessageDoc {
  _id: string;
  html: string;
  at: Date;
}

/** The indexes of the collections this module owns (collected by src/app/schema.ts). */
export const telegramMessageIndexes: IndexPlan = {
  telegramMessages: [{ key: { at: 1 }, name: 'at' }],
};

const isBadHtml = (err: unknown) => err instanceof GrammyError && err.error_code === 400 && /can't parse entities/i.test(err.description);
const htmlToPlain = (html: string) =>
  html.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

export type EditResult = 'edited' | 'unchanged' | 'gone';

export class TelegramSender {
  readonly api: Api;
  private readonly tokens: ActionTokens;
  private readonly messages: Collection<MessageDoc>;

  constructor(api: Api, db: Db, tokens: ActionTokens) {
    this.api = api;
    this.tokens = tokens;
    this.messages = db.collection<MessageDoc>('telegramMessages');
  }

  /** Sends a reply (split as needed); actions without a token get one. Returns the sent messages. */
  async sendReply(chatId: number | string, reply: Reply, opts: { json?: boolean } = {}): Promise<Message.TextMessage[]> {
    for (const a of reply.actions ?? []) a.token ??= await this.tokens.create(a.command, a.label);
    const { parts, keyboard } = renderReply(reply, opts);
    const sent: Message.TextMessage[] = [];
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      sent.push(await this.sendHtml(chatId, parts[i], last ? keyboard : undefined));
    }
    return sent;
  }

  /** Sends one HTML message; with a keyboard, remembers its HTML for the click's edit. */
  async sendHtml(chatId: number | string, html: string, keyboard?: InlineKeyboardMarkup, replyTo?: number): Promise<Message.TextMessage> {
    const extra = {
      link_preview_options: { is_disabled: true },
      ...(keyboard ? { reply_markup: keyboard } : {}),
      ...(replyTo ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
    };
    let msg: Message.TextMessage;
    try {
      msg = await this.api.sendMessage(chatId, html, { parse_mode: 'HTML', ...extra });
    } catch (err) {
      if (!isBadHtml(err)) throw err;
      msg = await this.api.sendMessage(chatId, htmlToPlain(html), extra); // never lose an answer to our own markup bug
    }
    if (keyboard) await this.remember(msg.chat.id, msg.message_id, html);
    return msg;
  }

  /** Replaces a message's text and keyboard (none = removed); "not modified" is not an error. */
  async editHtml(chatId: number | string, messageId: number, html: string, keyboard?: InlineKeyboardMarkup): Promise<EditResult> {
    try {
      await this.api.editMessageText(chatId, messageId, html, {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        ...(keyboard ? { reply_markup: keyboard } : {}),
      });
    } catch (err) {
      if (isNotModified(err)) return 'unchanged';
      if (isMessageGone(err)) return 'gone';
      throw err;
    }
    await this.remember(chatId, messageId, html);
    return 'edited';
  }

  /** The HTML we sent for a message with buttons, if we still have it. */
  async storedHtml(chatId: number | string, messageId: number): Promise<string | undefined> {
    return (await this.messages.findOne({ _id: `${chatId}:${messageId}` }))?.html;
  }

  /** Forgets message records older than `before` (retention). */
  async prune(before: Date): Promise<void> {
    await this.messages.deleteMany({ at: { $lt: before } });
  }

  private async remember(chatId: number | string, messageId: number, html: string): Promise<void> {
    const _id = `${chatId}:${messageId}`;
    await this.messages.replaceOne({ _id }, { html, at: new Date() }, { upsert: true });
  }
}
