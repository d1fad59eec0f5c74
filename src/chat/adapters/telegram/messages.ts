/**
 * Text messages: `/family ...` and `/ops family ...` (with or without `@botname`) run through the
 * dispatcher as the sender; `/start`, `/bind`, `/signup` and `/verify` are the only things a user
 * without a role can do.
 */
import type { Chat, User } from 'grammy/types';
import { parseCommandLine } from '../../grammar.ts';
import { handleBind } from './bind.ts';
import { handleSignup, handleStart, handleVerify } from './access.ts';
import { telegramInvoker, type TelegramDeps } from './context.ts';

export interface SplitCommand {
  command: string;
  rest: string;
}

/** `/dlq@bot list` → { command: 'dlq', rest: 'list' }; 'other-bot' for `/x@another_bot`; undefined for plain text. */
export function splitCommand(text: string, botUsername: string | undefined): SplitCommand | 'other-bot' | undefined {
  const m = /^\/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!m) return undefined;
  if (m[2] && botUsername && m[2].toLowerCase() !== botUsername.toLowerCase()) return 'other-bot';
  return { command: m[1].toLowerCase(), rest: (m[3] ?? '').trim() };
}

const NO_ROLE = 'You have no role here, so you can only use /start, /signup, /verify and /bind. Send /signup to ask the owner for access.';

/** Handles one text message; sends the answer to its chat. */
export async function handleText(deps: TelegramDeps, msg: { text: string; from: User; chat: Chat }, botUsername: string | undefined): Promise<void> {
  const { ops, dispatcher, sender } = deps;
  const { from, chat } = msg;
  const split = splitCommand(msg.text, botUsername);
  const answer = (html: string) => sender.sendHtml(chat.id, html);
  if (split === 'other-bot') return;
  if (!split) {
    if (chat.type === 'private') await answer('Commands start with a slash: /status, /dlq list, /help.');
    return;
  }
  const { command, rest } = split;
  if (command === 'start') return void (await answer(await handleStart(deps, from)));
  if (command === 'bind') return void (await answer(await handleBind(deps, from, chat, rest)));
  if (command === 'signup') return void (await answer(await handleSignup(deps, from, chat, rest)));
  if (command === 'verify') return void (await answer(await handleVerify(deps, from, chat, rest)));

  const invoker = await telegramInvoker(ops, from);
  const line = (command === 'ops' ? rest : `${command} ${rest}`).trim();
  if (invoker.role === 'none') {
    await ops.audit.record({ action: 'telegram_command', actor: invoker.actor, command: `/${command} ${rest}`.trim(), outcome: 'denied', error: 'no role' });
    await answer(NO_ROLE);
    return;
  }
  const result = await dispatcher.run(line, invoker);
  const parsed = parseCommandLine(line, { booleanFlags: dispatcher.registry.booleanFlags() });
  const json = result.status === 'ok' && parsed.ok && parsed.value.options.json === true;
  await sender.sendReply(chat.id, result.reply, { json });
}
