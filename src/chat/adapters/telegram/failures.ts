/**
 * What happens when a Telegram update fails: one handler, installed with `bot.catch`, logs the
 * cause once with a short reference and tells the chat in one sentence (never a stack trace). A
 * message without a sender is refused first (`requireSender`): it cannot be answered as anyone,
 * and it fails alone rather than inside a handler.
 */
import { BotError, type Bot, type Context, type ErrorHandler, type MiddlewareFn } from 'grammy';
import type { Update } from 'grammy/types';
import { errorRef } from '../../../http/server.ts';
import type { Logger } from '../../../log.ts';
import type { TelegramSender } from './sender.ts';

/** Refuses a message that has no sender (Telegram always sends one; a malformed update may not). */
export const requireSender: MiddlewareFn<Context> = (ctx, next) => {
  if (ctx.message && !ctx.message.from) throw new Error('the update has a message without a sender');
  return next();
};

/** The `bot.catch` handler: log with a reference, tell the message's chat. */
export function reportFailure(log: Logger, sender: TelegramSender): ErrorHandler<Context> {
  return async (err: BotError<Context>) => {
    const ref = errorRef();
    // The context holds the API with the bot token: log only the cause.
    log.error({ err: err.error, ref, updateId: err.ctx.update.update_id }, 'Telegram update failed');
    // The update may be malformed (a message without a chat): this must not throw too.
    const chatId: unknown = err.ctx.update.message?.chat?.id;
    if (typeof chatId === 'number') await sender.sendHtml(chatId, `That failed on our side (ref ${ref}); the details are in the server log.`).catch(() => {});
  };
}

/**
 * Runs one update through the bot; a middleware failure goes to the `bot.catch` handler, as in
 * grammY's own polling loop (our lease-guarded poller and the webhook call handleUpdate themselves).
 */
export async function handleWithCatch(bot: Bot, update: Update): Promise<void> {
  try {
    await bot.handleUpdate(update);
  } catch (err) {
    if (!(err instanceof BotError)) throw err;
    await bot.errorHandler(err);
  }
}
