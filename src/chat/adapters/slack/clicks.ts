/**
 * Button clicks (block_actions): ack at once, drop re-deliveries, run the button's token as the
 * clicker through the dispatcher. A refused, expired or already-used click is answered privately
 * and changes nothing; a click that ran replaces the message's buttons with the outcome
 * ("Retried 1 dead letter — by @ana at 14:02"), or, for a result to read (a table, fields),
 * answers with it and removes only the clicked button. On an alert root the outcome also goes
 * into its thread.
 */
import type { App as BoltApp, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import type { DispatchResult } from '../../dispatcher.ts';
import type { Reply } from '../../reply.ts';
import { ACTION_ID_PREFIX, actionBlocks, contextLine, escapeMrkdwn, replyToBlocks, type SlackBlock } from './blocks.ts';
import type { SlackContext } from './context.ts';
import { slackInvoker } from './invoker.ts';
import type { ReplyTarget } from './responder.ts';

/** Header block ids of alert roots start with this (see alertBlocks.ts). */
export const ALERT_BLOCK_PREFIX = 'sb-alert:';

/** Registers the listener for every Switchboard button. */
export function registerClicks(bolt: BoltApp, ctx: SlackContext): void {
  bolt.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: new RegExp(`^${ACTION_ID_PREFIX}`) }, ({ ack, body, action, respond }) =>
    ctx.inflight.run(async () => {
      await ack();
      await runClick(ctx, body, action, respond);
    }),
  );
}

/** "Retried 1 dead letter — by <@U123> at 14:02" (the time shown in each reader's zone). */
export function outcomeLine(reply: Reply, userId: string, at: Date): string {
  const first = (reply.text.split('\n')[0] ?? '').replace(/[.\s]+$/, '');
  const hhmm = at.toISOString().slice(11, 16);
  return `${escapeMrkdwn(first)} — by <@${userId}> at <!date^${Math.floor(at.getTime() / 1000)}^{time}|${hhmm} UTC>`;
}

/** The message's blocks without the clicked button (and without actions blocks left empty). */
export function withoutButton(blocks: SlackBlock[], actionId: string): SlackBlock[] {
  return blocks
    .map((b) => (b.type === 'actions' ? { ...b, elements: (b.elements ?? []).filter((e) => (e as Record<string, unknown>).action_id !== actionId) } : b))
    .filter((b) => b.type !== 'actions' || (b.elements ?? []).length > 0);
}

const isView = (r: Reply) => Boolean(r.table?.rows.length || r.fields?.length || r.title);

/** Runs one (already acked) click delivery. */
export async function runClick(ctx: SlackContext, body: BlockAction<ButtonAction>, action: ButtonAction, respond: RespondFn): Promise<void> {
  const { front, responder, log } = ctx;
  if (!(await ctx.deliveries.first(body as unknown as Record<string, unknown>))) {
    log.info({ trigger: body.trigger_id }, 'slack re-delivery of a click ignored');
    return;
  }
  const invoker = await slackInvoker(front.config, front.ops.identities, { id: body.user.id, name: body.user.username || body.user.name });
  const channel = (body.container.channel_id as string | undefined) ?? body.channel?.id;
  const ephemeralOrigin = body.container.is_ephemeral === true;
  const target: ReplyTarget = { respond, responseUrl: body.response_url, channel, user: body.user.id, ...(ephemeralOrigin ? {} : { messageTs: body.message?.ts }) };
  const result: DispatchResult & { alreadyDone?: unknown } = await front.dispatcher.click(action.value ?? '', invoker);
  log.info({ user: body.user.id, command: result.spec?.path.join(' '), status: result.status, alreadyDone: Boolean(result.alreadyDone) }, 'slack click');
  if (result.status !== 'ok' || result.alreadyDone) {
    await responder.send(target, { ...replyToBlocks(result.reply), ephemeral: true });
    return;
  }
  const original = (body.message?.blocks ?? []) as SlackBlock[];
  const outcome = outcomeLine(result.reply, body.user.id, new Date());
  let edited: SlackBlock[];
  if (isView(result.reply)) {
    await responder.send(target, { ...replyToBlocks(result.reply), ephemeral: result.reply.ephemeral !== false });
    edited = withoutButton(original, action.action_id);
  } else {
    edited = [...original.filter((b) => b.type !== 'actions'), contextLine(outcome), ...actionBlocks(result.reply.actions)];
  }
  const text = typeof body.message?.text === 'string' && body.message.text ? body.message.text : result.reply.text;
  await responder.send(target, { text, blocks: edited, ephemeral: ephemeralOrigin, replaceOriginal: true });
  const isAlertRoot = original.some((b) => typeof b.block_id === 'string' && b.block_id.startsWith(ALERT_BLOCK_PREFIX));
  if (isAlertRoot && channel && body.message?.ts) {
    await ctx.client.chat
      .postMessage({ channel, thread_ts: body.message.ts, text: outcome })
      .catch((err: unknown) => log.warn({ err }, 'could not post the outcome in the alert thread'));
  }
}
