/**
 * The signup channel on Telegram: the owner gets the PIN, who is asking and Approve/Deny buttons
 * in their private chat. The composition root gives it to the signup service (ops.signups) when
 * TELEGRAM_BOT_TOKEN is set, whether or not this process runs the bot: the HTTP signup routes
 * reach the owner through it too.
 */
import type { Db } from 'mongodb';
import type { SignupChannel, SignupView } from '../../../auth/signup.ts';
import type { Config } from '../../../config.ts';
import type { Logger } from '../../../log.ts';
import type { ActionTokens } from '../../actions.ts';
import { fmtDate, type ReplyAction } from '../../reply.ts';
import { createApi, type ApiOptions } from './api.ts';
import { TelegramSender } from './sender.ts';

export class TelegramSignupChannel implements SignupChannel {
  private readonly sender: TelegramSender;

  constructor(sender: TelegramSender) {
    this.sender = sender;
  }

  async askOwner(ownerChatId: number, s: SignupView, pin: string, actions: ReplyAction[]): Promise<void> {
    await this.sender.sendReply(ownerChatId, {
      title: 'Signup request',
      text: `${s.name} asks for the ${s.role} role. If you know them, give them the PIN (valid 10 minutes), or decide here.`,
      fields: [
        { label: 'Name', value: s.name },
        { label: 'Contact', value: s.contact },
        { label: 'Asked via', value: s.via },
        { label: 'PIN', value: pin },
        { label: 'Expires', value: fmtDate(s.expiresAt) },
      ],
      actions,
    });
  }
}

/** The channel for TELEGRAM_BOT_TOKEN (its own paced Api client), or undefined without a token. */
export function telegramSignupChannel(deps: { config: Config; db: Db; tokens: ActionTokens; log: Logger }, opts: ApiOptions = {}): SignupChannel | undefined {
  const api = createApi(deps.config, deps.log.child({ component: 'telegram' }), opts);
  return api ? new TelegramSignupChannel(new TelegramSender(api, deps.db, deps.tokens)) : undefined;
}
