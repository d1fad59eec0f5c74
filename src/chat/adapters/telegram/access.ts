/**
 * What a Telegram user without a role may do: `/start` (how to get in), `/signup [NAME]` (asks the
 * owner, who gets a PIN) and `/verify PIN`, routed by their own composer. Also tells a Telegram
 * requester when the owner approved or denied their signup.
 */
import { Composer, type Context } from 'grammy';
import type { Chat, User } from 'grammy/types';
import { SignupError, type SignupView } from '../../../auth/signup.ts';
import type { Actor } from '../../../db/collections.ts';
import { fmtDate } from '../../reply.ts';
import { telegramActor, type TelegramDeps } from './context.ts';
import { escapeHtml, inlineHtml } from './render.ts';

/** `/start`: who you are here and what to do next. */
export async function handleStart(deps: TelegramDeps, from: User): Promise<string> {
  const role = await deps.ops.identities.roleOf('telegram', String(from.id));
  const name = escapeHtml(telegramActor(from).name);
  if (role) return `Hi ${name}, you have the <b>${role}</b> role. Try /status, /dlq list or /help.`;
  if (!(await deps.ops.owner.get())) return `Hi ${name}. No owner is bound to this bot yet: the admin sends <code>/bind CODE</code> (code from <code>switchboard telegram bind-code</code>).`;
  return `Hi ${name}. You have no role here yet. Send /signup to ask the owner for access; they will give you a PIN to send as <code>/verify PIN</code>.`;
}

/** `/signup [NAME]`: starts a signup for this Telegram user. */
export async function handleSignup(deps: TelegramDeps, from: User, chat: Chat, arg: string): Promise<string> {
  if (chat.type !== 'private') return 'Send /signup to me in a private chat.';
  const actor = telegramActor(from);
  const role = await deps.ops.identities.roleOf('telegram', String(from.id));
  if (role) return `You already have the <b>${role}</b> role.`;
  try {
    const s = await deps.ops.signups.start({ name: arg.trim() || actor.name, contact: `telegram:${from.id}`, via: 'telegram', chatId: chat.id }, actor);
    return `I asked the owner. If they approve, they give you a 6-digit PIN: send <code>/verify PIN</code> here before ${fmtDate(s.expiresAt)}.`;
  } catch (err) {
    if (err instanceof SignupError) return inlineHtml(err.message);
    throw err;
  }
}

/** `/verify PIN`: checks the PIN of this user's newest signup. */
export async function handleVerify(deps: TelegramDeps, from: User, chat: Chat, arg: string): Promise<string> {
  if (chat.type !== 'private') return 'Send /verify to me in a private chat.';
  const pin = arg.trim();
  if (!pin) return 'Send the PIN the owner gave you: <code>/verify 123456</code>.';
  try {
    const s = await deps.ops.signups.verifyLatest(`telegram:${from.id}`, pin, telegramActor(from));
    return `Welcome! You now have the <b>${s.role}</b> role. Try /status or /help.`;
  } catch (err) {
    if (err instanceof SignupError) return inlineHtml(err.message);
    throw err;
  }
}

/** The composer for /start, /signup and /verify; each answers in the sender's chat. */
export function accessCommands(deps: TelegramDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const messages = composer.on('message');
  const answer = async (chat: Chat, html: Promise<string>) => void (await deps.sender.sendHtml(chat.id, await html));
  messages.command('start', (ctx) => answer(ctx.chat, handleStart(deps, ctx.from)));
  messages.command('signup', (ctx) => answer(ctx.chat, handleSignup(deps, ctx.from, ctx.chat, ctx.match)));
  messages.command('verify', (ctx) => answer(ctx.chat, handleVerify(deps, ctx.from, ctx.chat, ctx.match)));
  return composer;
}

/** Tells a Telegram requester that the owner approved or denied their signup (ops 'signup' events). */
export function signupNotices(deps: TelegramDeps): (e: { kind: string; signup: SignupView; by: Actor }) => void {
  return (e) => {
    const { signup } = e;
    if (!signup.chatId || !signup.contact.startsWith('telegram:') || (e.kind !== 'approved' && e.kind !== 'denied')) return;
    const text =
      e.kind === 'approved'
        ? `The owner approved your signup: you now have the <b>${signup.role}</b> role. Try /status or /help.`
        : 'The owner denied your signup request.';
    deps.sender.sendHtml(signup.chatId, text).catch((err: unknown) => deps.log.warn({ err }, 'could not tell the Telegram signup requester'));
  };
}
