/**
 * Typed commands, routed by grammY's `bot.command` (which also takes `/command@thisbot` and leaves
 * `/command@otherbot` alone): `/ops family ...` and `/family ...` for every command family run
 * through the dispatcher as the sender. A command no family answers (`/frobnicate`, `/Status`)
 * goes to the dispatcher too, which says what it knows instead; plain text in a private chat gets
 * a hint. Users without a role are refused here (audited); /start, /bind, /signup and /verify are
 * routed before this composer (access.ts, bind.ts).
 */
import { Composer, type Context } from 'grammy';
import type { Chat, User } from 'grammy/types';
import { parseCommandLine } from '../../grammar.ts';
import type { CommandRegistry } from '../../registry.ts';
import { telegramInvoker, type TelegramDeps } from './context.ts';

const NO_ROLE = 'You have no role here, so you can only use /start, /signup, /verify and /bind. Send /signup to ask the owner for access.';

/** Routed elsewhere (access.ts, bind.ts) or here by name ('ops'). */
const NOT_FAMILIES = new Set(['ops', 'start', 'bind', 'signup', 'verify']);

/** The command families a Telegram user types as `/family`: each registry root, and help. */
export function commandFamilies(registry: CommandRegistry): string[] {
  const roots = new Set(['help', ...registry.list().map((s) => s.path[0])]);
  return [...roots].filter((r) => !NOT_FAMILIES.has(r)).sort();
}

/** Runs `/<command> <rest>` (`/ops <rest>` runs `<rest>`) as the sender and answers in their chat. */
async function runCommand(deps: TelegramDeps, from: User, chat: Chat, command: string, rest: string): Promise<void> {
  const { ops, dispatcher, sender } = deps;
  const args = rest.trim();
  const invoker = await telegramInvoker(ops, from);
  if (invoker.role === 'none') {
    await ops.audit.record({ action: 'telegram_command', actor: invoker.actor, command: `/${command} ${args}`.trim(), outcome: 'denied', error: 'no role' });
    await sender.sendHtml(chat.id, NO_ROLE);
    return;
  }
  const line = (command === 'ops' ? args : `${command} ${args}`).trim();
  const result = await dispatcher.run(line, invoker);
  const parsed = parseCommandLine(line, { booleanFlags: dispatcher.registry.booleanFlags() });
  const json = result.status === 'ok' && parsed.ok && parsed.value.options.json === true;
  await sender.sendReply(chat.id, result.reply, { json });
}

/** The composer for `/ops` and the command `families` (e.g. 'status', 'dlq'), then the fallback. */
export function typedCommands(deps: TelegramDeps, families: readonly string[]): Composer<Context> {
  const composer = new Composer<Context>();
  const messages = composer.on('message');
  for (const family of ['ops', ...families.filter((f) => !NOT_FAMILIES.has(f))]) {
    messages.command(family, (ctx) => runCommand(deps, ctx.from, ctx.chat, family, ctx.match));
  }
  composer.on('message:text', async (ctx) => {
    const first = ctx.entities('bot_command').find((e) => e.offset === 0);
    if (!first) {
      if (ctx.chat.type === 'private') await deps.sender.sendHtml(ctx.chat.id, 'Commands start with a slash: /status, /dlq list, /help.');
      return;
    }
    // grammY decides whether the command is addressed to this bot (no @name, or ours).
    const word = first.text.slice(1).split('@')[0];
    if (!ctx.hasCommand(word)) return;
    await runCommand(deps, ctx.from, ctx.chat, word.toLowerCase(), String(ctx.match ?? ''));
  });
  return composer;
}
