/**
 * Who is clicking or typing in Slack: the Slack user id; the role from `identities` (platform
 * 'slack'), SLACK_ADMIN_USER_IDS always admin, anyone else SLACK_DEFAULT_ROLE ('none' refuses).
 */
import type { Config } from '../../../config.ts';
import type { Invoker } from '../../dispatcher.ts';
import type { Identities } from '../../../auth/identities.ts';

export interface SlackUser {
  id: string;
  name?: string;
}

/** The Invoker for a Slack user. */
export async function slackInvoker(config: Pick<Config, 'SLACK_ADMIN_USER_IDS' | 'SLACK_DEFAULT_ROLE'>, identities: Identities, user: SlackUser): Promise<Invoker> {
  const actor = { platform: 'slack' as const, id: user.id, name: user.name || user.id };
  if (config.SLACK_ADMIN_USER_IDS.includes(user.id)) return { actor, role: 'admin' };
  const stored = await identities.roleOf('slack', user.id);
  return { actor, role: stored ?? config.SLACK_DEFAULT_ROLE };
}

/** Undoes Slack's escaping of slash-command text (`&amp;`, `&lt;`, `&gt;`). */
export function unescapeSlackText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
