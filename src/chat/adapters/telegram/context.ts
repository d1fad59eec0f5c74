/** What the Telegram handlers share (the front end's parts, the sender), and who is asking. */
import type { User } from 'grammy/types';
import type { Actor } from '../../../db/collections.ts';
import type { Logger } from '../../../log.ts';
import type { Ops } from '../../../ops/index.ts';
import type { ActionTokens } from '../../actions.ts';
import type { Dispatcher, Invoker } from '../../dispatcher.ts';
import type { TelegramSender } from './sender.ts';

export interface TelegramDeps {
  ops: Ops;
  dispatcher: Dispatcher;
  tokens: ActionTokens;
  sender: TelegramSender;
  log: Logger;
  /** TELEGRAM_OWNER_ID: the only user who may bind, with a bare `/bind`. */
  ownerId?: number;
}

/** A Telegram user as an Actor. */
export function telegramActor(user: { id: number; first_name: string; last_name?: string; username?: string }): Actor {
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ') || (user.username ? `@${user.username}` : String(user.id));
  return { platform: 'telegram', id: String(user.id), name };
}

/** The Invoker for a Telegram user: their role in `identities`, or 'none'. */
export async function telegramInvoker(ops: Ops, user: User): Promise<Invoker> {
  const role = await ops.identities.roleOf('telegram', String(user.id));
  return { actor: telegramActor(user), role: role ?? 'none' };
}
