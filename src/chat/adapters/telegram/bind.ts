/**
 * `/bind`: makes a Telegram user (and their private chat) the owner. With no owner bound,
 * `/bind CODE` binds (code from `telegram bind-code`, 10 minutes, once); when TELEGRAM_OWNER_ID
 * is set, only that user may bind, with a bare `/bind`. With an owner bound, a bare `/bind`
 * tells who and since when; a new code rebinds and the previous owner is told. All audited.
 */
import { Composer, type Context } from 'grammy';
import type { Chat, User } from 'grammy/types';
import type { AuditDoc } from '../../../db/collections.ts';
import { fmtDate } from '../../reply.ts';
import type { TelegramOwner } from '../../../auth/owner.ts';
import { telegramActor, type TelegramDeps } from './context.ts';
import { escapeHtml, inlineHtml } from './render.ts';

const NEED_CODE = 'An admin makes a one-time code with <code>switchboard telegram bind-code</code> (or <code>/telegram bind-code</code>); send <code>/bind CODE</code> here within 10 minutes.';

/** The composer for `/bind [CODE]`; it answers in the sender's chat. */
export function bindCommand(deps: TelegramDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.on('message').command('bind', async (ctx) => void (await deps.sender.sendHtml(ctx.chat.id, await handleBind(deps, ctx.from, ctx.chat, ctx.match))));
  return composer;
}

/** Handles `/bind [CODE]` and returns the HTML answer. */
export async function handleBind(deps: TelegramDeps, from: User, chat: Chat, arg: string): Promise<string> {
  const { ops, ownerId } = deps;
  const actor = telegramActor(from);
  const code = arg.trim();
  const audit = (outcome: AuditDoc['outcome'], error?: string, action = 'telegram_bind', detail?: Record<string, unknown>) =>
    ops.audit.record({ action, actor, command: code ? '/bind [code]' : '/bind', target: `telegram:${from.id}`, outcome, ...(error ? { error } : {}), ...(detail ? { detail } : {}) });
  if (chat.type !== 'private') return 'Send /bind to me in a private chat.';
  const current = await ops.owner.get();
  const refuse = async (why: string) => {
    await audit('denied', why);
    return inlineHtml(why);
  };

  if (!code) {
    if (ownerId !== undefined && from.id === ownerId && current?.userId !== ownerId) return bind(deps, from, chat, 'owner-id', current, audit);
    if (current) return describeOwner(deps, current, from);
    if (ownerId !== undefined) return refuse('Only the configured owner (TELEGRAM_OWNER_ID) can bind this bot.');
    return `No owner is bound yet. ${NEED_CODE}`;
  }
  if (ownerId !== undefined && from.id !== ownerId) return refuse('Only the configured owner (TELEGRAM_OWNER_ID) can bind this bot.');
  const used = await ops.bindCodes.consume(code, actor);
  if (used === 'wrong') return refuse('That code is not valid. Check it, or make a new one with `telegram bind-code`.');
  if (used === 'expired') return refuse('That code has expired (codes last 10 minutes). Make a new one with `telegram bind-code`.');
  if (used === 'used') return refuse('That code was already used. Make a new one with `telegram bind-code`.');
  return bind(deps, from, chat, 'code', current, audit);
}

async function bind(
  deps: TelegramDeps,
  from: User,
  chat: Chat,
  via: TelegramOwner['via'],
  previous: TelegramOwner | undefined,
  audit: (outcome: AuditDoc['outcome'], error?: string, action?: string, detail?: Record<string, unknown>) => Promise<void>,
): Promise<string> {
  const actor = telegramActor(from);
  const next: TelegramOwner = { userId: from.id, chatId: chat.id, name: actor.name, ...(from.username ? { username: from.username } : {}), boundAt: new Date(), via };
  await deps.ops.owner.bind(next, actor);
  const rebind = previous !== undefined && previous.userId !== from.id;
  await audit('ok', undefined, rebind ? 'telegram_rebind' : 'telegram_bind', { via, chatId: chat.id, ...(previous ? { previous: previous.userId } : {}) });
  if (rebind) {
    const text =
      `The Switchboard owner binding moved to <b>${escapeHtml(next.name)}</b> (${next.userId}) at ${fmtDate(next.boundAt)}. ` +
      'Alerts and signup requests now go to them. Your role is unchanged; an admin can change it.';
    await deps.sender.sendHtml(previous.chatId, text).catch((err: unknown) => deps.log.warn({ err }, 'could not tell the previous Telegram owner'));
  }
  return `You are now the owner of this Switchboard bot (admin role): alerts and signup requests come to this chat. Try /status or /help.`;
}

async function describeOwner(deps: TelegramDeps, current: TelegramOwner, from: User): Promise<string> {
  const since = fmtDate(current.boundAt instanceof Date ? current.boundAt : new Date(current.boundAt));
  if (current.userId === from.id) return `You are the owner (bound since ${since}). To move the binding, send <code>/bind CODE</code> from the new owner's account.`;
  const role = await deps.ops.identities.roleOf('telegram', String(from.id));
  if (!role) return `An owner is already bound (since ${since}). Rebinding needs a new code. ${NEED_CODE}`;
  return `The owner is <b>${escapeHtml(current.name)}</b> (${current.userId}${current.username ? `, @${escapeHtml(current.username)}` : ''}), bound since ${since}. Rebinding needs a new code: ${NEED_CODE}`;
}
