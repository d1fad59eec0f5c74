/** What the Telegram handlers share: the app, the sender, the owner and signup services, and who is asking. */
import type { User } from 'grammy/types';
import type { App } from '../../../app/index.ts';
import type { Signups } from '../../../auth/signup.ts';
import type { Invoker } from '../../dispatcher.ts';
import type { BindCodes } from './bindCodes.ts';
import { telegramActor, type OwnerStore } from './owner.ts';
import type { TelegramSender } from './sender.ts';

export interface TelegramDeps {
  app: App;
  sender: TelegramSender;
  owner: OwnerStore;
  codes: BindCodes;
  signups: Signups;
  /** TELEGRAM_OWNER_ID: the only user who may bind, with a bare `/bind`. */
  ownerId?: number;
}

/** The Invoker for a Telegram user: their role in `identities`, or 'none'. */
export async function telegramInvoker(app: App, user: User): Promise<Invoker> {
  const role = await app.ops.identities.roleOf('telegram', String(user.id));
  return { actor: telegramActor(user), role: role ?? 'none' };
}
