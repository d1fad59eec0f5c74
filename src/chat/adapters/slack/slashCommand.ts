/**
 * The one slash command (SLACK_COMMAND, `/ops` by default): acks at once, drops re-deliveries,
 * runs the text through the dispatcher as the Slack user, answers through respond() (ephemeral
 * unless the Reply says otherwise), falling back to the Web API.
 */
import type { App as BoltApp, RespondFn, SlashCommand } from '@slack/bolt';
import { replyToBlocks } from './blocks.ts';
import type { SlackContext } from './context.ts';
import { slackInvoker, unescapeSlackText } from './invoker.ts';

/** Registers the slash command listener on the Bolt app. */
export function registerSlashCommand(bolt: BoltApp, ctx: SlackContext): void {
  bolt.command(ctx.front.config.SLACK_COMMAND, ({ ack, body, respond }) =>
    ctx.inflight.run(async () => {
      await ack();
      await runSlashCommand(ctx, body, respond);
    }),
  );
}

/** Runs one (already acked) slash command delivery. */
export async function runSlashCommand(ctx: SlackContext, body: SlashCommand, respond: RespondFn): Promise<void> {
  const { front, log } = ctx;
  if (!(await ctx.deliveries.first(body))) {
    log.info({ trigger: body.trigger_id }, 'slack re-delivery of a slash command ignored');
    return;
  }
  const text = unescapeSlackText(body.text ?? '').trim();
  const invoker = await slackInvoker(front.config, front.ops.identities, { id: body.user_id, name: body.user_name });
  const target = { respond, responseUrl: body.response_url, channel: body.channel_id, user: body.user_id };
  if (invoker.role === 'none' && (!text || /^help\b/i.test(text))) {
    const refusal = { text: `You have no Switchboard role. Ask an admin to run \`${front.config.SLACK_COMMAND} roles grant <@${body.user_id}> viewer\`.`, ephemeral: true };
    await ctx.responder.send(target, { ...replyToBlocks(refusal), ephemeral: true });
    return;
  }
  const result = await front.dispatcher.run(text, invoker);
  log.info({ user: body.user_id, command: result.spec?.path.join(' ') ?? text.split(/\s+/)[0], status: result.status }, 'slack command');
  await ctx.responder.send(target, { ...replyToBlocks(result.reply), ephemeral: result.reply.ephemeral !== false });
}
