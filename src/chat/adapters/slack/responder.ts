/**
 * Sends an answer back to where a command or click came from: through `respond()` (the
 * response_url) while it lasts, at most 5 uses within 30 minutes, then through the Web API
 * (chat.postEphemeral, chat.postMessage, chat.update).
 */
import type { RespondFn, webApi } from '@slack/bolt';
import type { Logger } from '../../../log.ts';
import type { SlackBlock } from './blocks.ts';

export const RESPONSE_URL_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60_000;

/** Where an answer goes. */
export interface ReplyTarget {
  respond?: RespondFn;
  responseUrl?: string;
  channel?: string;
  user: string;
  /** The message a click came from (for replace_original without a response_url). */
  messageTs?: string;
}

export interface OutgoingMessage {
  text: string;
  blocks: SlackBlock[];
  ephemeral: boolean;
  /** Replace the message the click came from instead of posting a new one. */
  replaceOriginal?: boolean;
}

export type SendRoute = 'response_url' | 'web_api' | 'none';

/** Counts response_url uses per URL (in this process). */
export class ResponseUrlBudget {
  private readonly uses = new Map<string, { first: number; count: number }>();

  /** Takes one use of `url`; false when it has had 5 or is older than 30 minutes. */
  take(url: string, now = Date.now()): boolean {
    if (this.uses.size > 5000) for (const [k, v] of this.uses) if (now - v.first > RESPONSE_URL_TTL_MS) this.uses.delete(k);
    const u = this.uses.get(url) ?? { first: now, count: 0 };
    if (u.count >= RESPONSE_URL_USES || now - u.first > RESPONSE_URL_TTL_MS) return false;
    u.count++;
    this.uses.set(url, u);
    return true;
  }
}

export class SlackResponder {
  readonly budget = new ResponseUrlBudget();
  private readonly client: webApi.WebClient;
  private readonly log: Logger;

  constructor(client: webApi.WebClient, log: Logger) {
    this.client = client;
    this.log = log;
  }

  /** Sends `msg` to `target`; returns the route it took. Never throws. */
  async send(target: ReplyTarget, msg: OutgoingMessage): Promise<SendRoute> {
    if (target.respond && target.responseUrl && this.budget.take(target.responseUrl)) {
      try {
        await target.respond({
          text: msg.text,
          blocks: msg.blocks,
          response_type: msg.ephemeral ? 'ephemeral' : 'in_channel',
          replace_original: Boolean(msg.replaceOriginal),
        });
        return 'response_url';
      } catch (err) {
        this.log.warn({ err }, 'slack response_url failed; using the Web API');
      }
    }
    try {
      if (!target.channel) return 'none';
      if (msg.replaceOriginal && target.messageTs) {
        await this.client.chat.update({ channel: target.channel, ts: target.messageTs, text: msg.text, blocks: msg.blocks });
      } else if (msg.ephemeral) {
        await this.client.chat.postEphemeral({ channel: target.channel, user: target.user, text: msg.text, blocks: msg.blocks });
      } else {
        await this.client.chat.postMessage({ channel: target.channel, text: msg.text, blocks: msg.blocks });
      }
      return 'web_api';
    } catch (err) {
      this.log.error({ err, channel: target.channel }, 'slack answer could not be delivered');
      return 'none';
    }
  }
}
