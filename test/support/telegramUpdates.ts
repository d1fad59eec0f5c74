/** Builders for realistic Telegram Update objects (as the Bot API returns them from getUpdates). */
import type { Chat, Message, MessageEntity, Update, User, UserFromGetMe } from 'grammy/types';

/** Token the fake accepts when none is given. */
export const DEFAULT_TELEGRAM_TOKEN = '123456789:TEST-fake-telegram-token';

/** An Update before the fake assigns its update_id. */
export type UpdateInput = Omit<Update, 'update_id'> & { update_id?: number };

let inboundMessageId = 500_000;
let callbackCounter = 0;

/** The bot user getMe reports for a token (id = the digits before ':'). */
export function botUserFor(token: string = DEFAULT_TELEGRAM_TOKEN): UserFromGetMe {
  const id = Number.parseInt(token.split(':')[0], 10) || 123456789;
  return {
    id,
    is_bot: true,
    first_name: 'Switchboard Test',
    username: 'switchboard_test_bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
}

/** A chat object for an id: positive = private chat, -100… = supergroup, other negative = group. */
export function chatFor(chatId: number, user?: User): Chat {
  if (chatId > 0) {
    return { id: chatId, type: 'private', first_name: user?.first_name ?? `User ${chatId}`, username: user?.username };
  }
  if (String(chatId).startsWith('-100')) return { id: chatId, type: 'supergroup', title: `Group ${chatId}` };
  return { id: chatId, type: 'group', title: `Group ${chatId}` };
}

/** `bot_command` entities for every /command in the text (offsets in UTF-16 units, like Telegram). */
export function commandEntities(text: string): MessageEntity[] {
  const entities: MessageEntity[] = [];
  for (const match of text.matchAll(/(^|\s)(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)/g)) {
    const offset = (match.index ?? 0) + match[1].length;
    entities.push({ type: 'bot_command', offset, length: match[2].length });
  }
  return entities;
}

/** Arguments for {@link messageUpdate}. */
export interface MessageUpdateInput {
  fromId: number;
  chatId: number;
  text: string;
  firstName?: string;
  username?: string;
  messageId?: number;
}

/** An incoming text message Update (with bot_command entities for /commands). */
export function messageUpdate(input: MessageUpdateInput): UpdateInput {
  const from: User = {
    id: input.fromId,
    is_bot: false,
    first_name: input.firstName ?? `User ${input.fromId}`,
    username: input.username,
    language_code: 'en',
  };
  const entities = commandEntities(input.text);
  const message = {
    message_id: input.messageId ?? ++inboundMessageId,
    from,
    chat: chatFor(input.chatId, input.chatId === input.fromId ? from : undefined),
    date: Math.floor(Date.now() / 1000),
    text: input.text,
    ...(entities.length > 0 ? { entities } : {}),
  };
  return { message: message as Message & Update.NonChannel };
}

/** Arguments for {@link callbackUpdate}. */
export interface CallbackUpdateInput {
  fromId: number;
  chatId: number;
  data: string;
  /** The bot message carrying the pressed inline button. */
  messageId: number;
  firstName?: string;
  username?: string;
  /** Text of that bot message (default ''). */
  messageText?: string;
  /** The keyboard that message has now (Telegram sends it with the click). */
  replyMarkup?: unknown;
  token?: string;
}

/** An inline-button press (callback_query) Update on a message the bot sent. */
export function callbackUpdate(input: CallbackUpdateInput): UpdateInput {
  const from: User = {
    id: input.fromId,
    is_bot: false,
    first_name: input.firstName ?? `User ${input.fromId}`,
    username: input.username,
    language_code: 'en',
  };
  callbackCounter += 1;
  const bot = botUserFor(input.token);
  const message = {
    message_id: input.messageId,
    from: { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username },
    chat: chatFor(input.chatId, input.chatId === input.fromId ? from : undefined),
    date: Math.floor(Date.now() / 1000),
    text: input.messageText ?? '',
    ...(input.replyMarkup ? { reply_markup: input.replyMarkup } : {}),
  } as Message;
  return {
    callback_query: {
      id: `${input.fromId}${String(callbackCounter).padStart(6, '0')}`,
      from,
      message,
      chat_instance: String(-Math.abs(input.chatId * 7919)),
      data: input.data,
    },
  };
}
