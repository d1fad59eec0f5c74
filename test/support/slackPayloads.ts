/** Builders for inbound Slack HTTP requests (signed slash commands and block actions), shaped as Slack sends them. */
import { createHmac } from 'node:crypto';

const TEAM = { id: 'T1', domain: 'switchboard-test' };
const APP_ID = 'A1';
const VERIFICATION_TOKEN = 'fake-verification-token';
let triggerCounter = 0;

/** Headers Slack adds to every inbound request: v0 HMAC-SHA256 of `v0:${ts}:${body}`. */
export function signSlackRequest(
  rawBody: string,
  signingSecret: string,
  timestampSec: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestampSec), 'x-slack-signature': `v0=${signature}` };
}

/** Arguments for {@link slashCommandBody}. */
export interface SlashCommandInput {
  command: string;
  text: string;
  userId: string;
  channelId: string;
  responseUrl: string;
  triggerId?: string;
}

/** A slash-command request body, x-www-form-urlencoded as Slack posts it. */
export function slashCommandBody(input: SlashCommandInput): string {
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: TEAM.id,
    team_domain: TEAM.domain,
    channel_id: input.channelId,
    channel_name: `channel-${input.channelId.toLowerCase()}`,
    user_id: input.userId,
    user_name: input.userId.toLowerCase(),
    command: input.command,
    text: input.text,
    api_app_id: APP_ID,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId ?? nextTriggerId(),
  }).toString();
}

/** Arguments for {@link blockActionBody}. */
export interface BlockActionInput {
  userId: string;
  actionId: string;
  value: string;
  responseUrl: string;
  channelId: string;
  messageTs: string;
  /** Blocks of the message the button lives in; the action's block_id is looked up here. */
  blocks?: Array<Record<string, unknown>>;
  /** Overrides the block_id (default: found in `blocks`, else 'actions'). */
  blockId?: string;
  /** Text of the message the button lives in. */
  messageText?: string;
}

/** A button-click (block_actions) request body: form-encoded `payload=<json>` as Slack posts it. */
export function blockActionBody(input: BlockActionInput): string {
  const blocks = input.blocks ?? [];
  const found = findButton(blocks, input.actionId);
  const payload = {
    type: 'block_actions',
    user: { id: input.userId, username: input.userId.toLowerCase(), name: input.userId.toLowerCase(), team_id: TEAM.id },
    api_app_id: APP_ID,
    token: VERIFICATION_TOKEN,
    container: { type: 'message', message_ts: input.messageTs, channel_id: input.channelId, is_ephemeral: false },
    trigger_id: nextTriggerId(),
    team: TEAM,
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: `channel-${input.channelId.toLowerCase()}` },
    message: {
      type: 'message',
      user: 'UBOT',
      bot_id: 'B1',
      app_id: APP_ID,
      team: TEAM.id,
      text: input.messageText ?? '',
      ts: input.messageTs,
      blocks,
    },
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        action_id: input.actionId,
        block_id: input.blockId ?? found?.blockId ?? 'actions',
        text: found?.text ?? { type: 'plain_text', text: input.actionId, emoji: true },
        value: input.value,
        type: 'button',
        action_ts: `${Math.floor(Date.now() / 1000)}.000001`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function findButton(blocks: Array<Record<string, unknown>>, actionId: string): { blockId: string; text: unknown } | undefined {
  for (const block of blocks) {
    const elements = Array.isArray(block.elements) ? (block.elements as Array<Record<string, unknown>>) : [];
    const candidates = block.accessory ? [...elements, block.accessory as Record<string, unknown>] : elements;
    const hit = candidates.find((el) => el.action_id === actionId);
    if (hit) return { blockId: String(block.block_id ?? 'actions'), text: hit.text };
  }
  return undefined;
}

function nextTriggerId(): string {
  triggerCounter += 1;
  return `${1_000_000 + triggerCounter}.1.fake${triggerCounter}`;
}
