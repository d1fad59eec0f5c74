/** `telegram bind-code|owner`: the one-time code that binds the Telegram owner, and who is bound. */
import { z } from 'zod';
import { command } from './define.ts';
import { fmtDate } from '../src/chat/reply.ts';

export const telegramCommands = [
  command({
    path: ['telegram', 'bind-code'],
    summary: 'A one-time code (10 minutes) that binds the Telegram owner: they send /bind CODE to the bot',
    usage: 'telegram bind-code',
    description: 'Works once. Binding a new owner with it tells the previous one. With TELEGRAM_OWNER_ID set, only that user can bind.',
    examples: ['telegram bind-code', 'telegram bind-code --json'],
    role: 'admin',
    action: 'telegram_bind_code',
    args: z.object({}),
    async run(_a, { ops, actor }) {
      const { code, expiresAt } = await ops.bindCodes.create(actor);
      return {
        title: 'Telegram bind code',
        text: `Send \`/bind ${code}\` to the bot from the owner's Telegram account, in a private chat, before ${fmtDate(expiresAt)}. It works once.`,
        data: { code, expiresAt },
        audit: { target: 'telegram:owner', detail: { expiresAt } },
      };
    },
  }),
  command({
    path: ['telegram', 'owner'],
    summary: 'Who is bound as the Telegram owner, and since when',
    usage: 'telegram owner',
    examples: ['telegram owner'],
    role: 'viewer',
    args: z.object({}),
    async run(_a, { ops }) {
      const owner = await ops.owner.get();
      if (!owner) return { text: 'No Telegram owner is bound. Make a code with `telegram bind-code`.', data: { owner: null } };
      return {
        text: `The Telegram owner is ${owner.name} (${owner.userId}${owner.username ? `, @${owner.username}` : ''}), bound since ${fmtDate(owner.boundAt)} via ${owner.via}.`,
        data: { owner: { userId: owner.userId, chatId: owner.chatId, name: owner.name, username: owner.username ?? null, boundAt: owner.boundAt, via: owner.via } },
      };
    },
  }),
];
