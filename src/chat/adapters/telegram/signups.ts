/**
 * Signups wired to Telegram: the owner gets the PIN, who is asking and Approve/Deny buttons in
 * their private chat. Used by the HTTP routes (even without a bot token: they then answer that
 * signup is unavailable) and by the bot's `/signup` and `/verify`.
 */
import type { App } from '../../../app/index.ts';
import { loadPinSecret } from '../../../auth/pin.ts';
import { Signups, type SignupChannel, type SignupView } from '../../../auth/signup.ts';
import { fmtDate, type ReplyAction } from '../../reply.ts';
import { OwnerStore } from './owner.ts';
import type { TelegramSender } from './sender.ts';

/** Reaches the bound owner through `sender`; without a sender there is no token. */
export class TelegramSignupChannel implements SignupChannel {
  private readonly sender: TelegramSender | undefined;
  private readonly owner: OwnerStore;

  constructor(sender: TelegramSender | undefined, owner: OwnerStore) {
    this.sender = sender;
    this.owner = owner;
  }

  async status(): Promise<{ hasToken: boolean; ownerBound: boolean }> {
    return { hasToken: Boolean(this.sender), ownerBound: Boolean(await this.owner.get()) };
  }

  async askOwner(s: SignupView, pin: string, actions: ReplyAction[]): Promise<void> {
    const owner = await this.owner.get();
    if (!this.sender || !owner) throw new Error('no Telegram owner is bound');
    await this.sender.sendReply(owner.chatId, {
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

/** The signup service of a process, reaching the owner through `sender` when there is one. */
export function createSignups(app: App, sender: TelegramSender | undefined): Signups {
  const owner = new OwnerStore(app.db, app.engine.settings, app.ops.identities);
  let secret: Promise<Buffer> | undefined;
  return new Signups({
    db: app.db,
    audit: app.ops.audit,
    identities: app.ops.identities,
    events: app.ops,
    channel: new TelegramSignupChannel(sender, owner),
    secret: () => (secret ??= loadPinSecret(app.db, app.config.SIGNUP_PIN_SECRET).catch((err: unknown) => {
      secret = undefined;
      throw err;
    })),
    defaultRole: app.config.SIGNUP_DEFAULT_ROLE,
  });
}
